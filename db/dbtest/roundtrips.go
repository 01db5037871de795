package dbtest

import (
	"context"
	"database/sql"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/groupd/groupd/db"
	"github.com/lib/pq"
)

// RoundTrips counts the round trips to PostgreSQL of the connections of a
// database opened with OpenCounted: each time a connection reads after it
// has written, the client waited for an answer. That is what a request pays
// per statement on a network, whatever the statement costs the server: a
// prepared statement is one, an unnamed one with parameters two (lib/pq
// parses, then binds and executes), BEGIN and COMMIT one each.
type RoundTrips struct{ n atomic.Int64 }

// Count is the number of round trips so far.
func (r *RoundTrips) Count() int64 { return r.n.Load() }

// OpenCounted returns an open handle on a fresh, migrated database whose
// round trips r counts, closed when the test ends. Its pool holds two
// connections (db.DB.Prepared prepares outside the transaction that uses
// it). database/sql prepares a statement on each connection at its first
// use there, a round trip a steady state does not have: count a call after
// it has run a few times (MinRoundTrips).
func OpenCounted(tb testing.TB) (*db.DB, *RoundTrips) {
	tb.Helper()
	url := NewDatabaseURL(tb)
	c, err := pq.NewConnector(url)
	if err != nil {
		tb.Fatalf("dbtest: %v", err)
	}
	r := &RoundTrips{}
	c.Dialer(countingDialer{r})
	sqldb := sql.OpenDB(c)
	sqldb.SetMaxOpenConns(2)
	sqldb.SetMaxIdleConns(2)
	if err := sqldb.PingContext(context.Background()); err != nil {
		tb.Fatalf("dbtest: open: %v", err)
	}
	tb.Cleanup(func() { sqldb.Close() })
	return &db.DB{DB: sqldb, URL: url, Now: time.Now}, r
}

type countingDialer struct{ r *RoundTrips }

func (d countingDialer) Dial(network, address string) (net.Conn, error) {
	return d.DialTimeout(network, address, 0)
}

func (d countingDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	nc, err := net.DialTimeout(network, address, timeout)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: nc, r: d.r}, nil
}

type countingConn struct {
	net.Conn
	r       *RoundTrips
	mu      sync.Mutex
	written bool // written since the last read
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	c.written = true
	c.mu.Unlock()
	return c.Conn.Write(b)
}

func (c *countingConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	if c.written {
		c.written = false
		c.r.n.Add(1)
	}
	c.mu.Unlock()
	return c.Conn.Read(b)
}

// MinRoundTrips runs call warm times, then counted times, and returns the
// fewest round trips one counted call made: the steady state, once every
// statement is prepared on every connection of the pool.
func MinRoundTrips(tb testing.TB, r *RoundTrips, warm, counted int, call func() error) int64 {
	tb.Helper()
	for i := 0; i < warm; i++ {
		if err := call(); err != nil {
			tb.Fatal(err)
		}
	}
	least := int64(-1)
	for i := 0; i < counted; i++ {
		before := r.Count()
		if err := call(); err != nil {
			tb.Fatal(err)
		}
		if n := r.Count() - before; least < 0 || n < least {
			least = n
		}
	}
	return least
}
