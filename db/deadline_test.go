package db

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"testing"
	"time"
)

// TestDeadlineSilentServer: a server that accepts connections and never
// answers (frozen, or behind a partition) holds a call only until its
// context ends. Plain lib/pq waits for the start-up answer forever.
func TestDeadlineSilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, acceptErr := ln.Accept()
			if acceptErr != nil {
				return
			}
			defer c.Close() // silent until the test ends
		}
	}()
	addr := ln.Addr().(*net.TCPAddr)
	connector, err := newDeadlineConnector(fmt.Sprintf("postgres://u@127.0.0.1:%d/x?sslmode=disable", addr.Port))
	if err != nil {
		t.Fatal(err)
	}
	d := sql.OpenDB(connector)
	defer d.Close()
	for _, timeout := range []time.Duration{100 * time.Millisecond, 300 * time.Millisecond} {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		start := time.Now()
		err := d.PingContext(ctx)
		took := time.Since(start)
		cancel()
		if err == nil {
			t.Fatal("ping of a silent server succeeded")
		}
		if took > timeout+500*time.Millisecond {
			t.Fatalf("ping with a %v context took %v", timeout, took)
		}
		t.Logf("%v context: failed after %v: %v", timeout, took, err)
	}
}
