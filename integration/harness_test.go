// Package integration holds black-box tests: the real server (server.Main,
// as cmd/groupd runs it, or the built binary) against a real PostgreSQL, over
// real HTTP.
package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groupd/groupd/db/dbtest"
	"github.com/groupd/groupd/server"
)

func TestMain(m *testing.M) {
	// Most of this package's time is spent waiting: on servers, PostgreSQL,
	// child processes, Chromium and timers. go test's default of one
	// parallel test per CPU leaves a 2-core machine half idle, so the
	// package runs more at once, unless -parallel says otherwise. The tests
	// whose time windows other tests' load would stretch are not parallel.
	flag.Parse()
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet {
		flag.Set("test.parallel", strconv.Itoa(max(parallelTests, runtime.GOMAXPROCS(0))))
	}
	dbtest.Main(m)
}

// parallelTests is how many parallel tests run at once by default.
const parallelTests = 4

// syncBuffer is a log sink that tests can read while the server writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Server is a running groupd under test.
type Server struct {
	*server.Main
	Logs *syncBuffer
	t    testing.TB
}

// MustStartServer starts the real Main on 127.0.0.1:0 against a fresh
// database; configure may adjust the configuration first.
func MustStartServer(tb testing.TB, configure ...func(*server.Config)) *Server {
	tb.Helper()
	return MustStartServerOn(tb, dbtest.NewDatabaseURL(tb), configure...)
}

// MustStartServerOn starts a server on an existing database, as a second
// process of the same deployment would.
func MustStartServerOn(tb testing.TB, databaseURL string, configure ...func(*server.Config)) *Server {
	tb.Helper()
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DatabaseURL = databaseURL
	cfg.RootPassword = RootPassword
	cfg.ShutdownTimeout = 5 * time.Second
	logs := &syncBuffer{}
	cfg.LogOutput = logs
	for _, f := range configure {
		f(&cfg)
	}
	m := server.NewMain(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := m.Open(ctx); err != nil {
		tb.Fatalf("start server: %v\n%s", err, logs.String())
	}
	tb.Cleanup(func() {
		// The tests' client may hold connections it dialled but never sent
		// a request on (http.Transport keeps a dial that lost its race to
		// an idle connection). The server counts such a connection idle only
		// once it is 5 s old, the very limit of its graceful shutdown, so
		// closing them first keeps the shutdown from waiting on them.
		http.DefaultClient.CloseIdleConnections()
		if err := m.Close(); err != nil {
			tb.Errorf("stop server: %v", err)
		}
		if tb.Failed() {
			// The server's side of a failure: causes of 500s are only here.
			tb.Logf("server log:\n%s", lastLines(logs.String(), 40))
		}
	})
	return &Server{Main: m, Logs: logs, t: tb}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// RootPassword is root's password in every test server.
const RootPassword = "root-secret-for-tests"

// Response is a received HTTP response with its body read.
type Response struct {
	*http.Response
	Body []byte
}

// JSON decodes the body into v, failing the test when it is not JSON.
func (r *Response) JSON(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		tb.Fatalf("response body is not JSON (%v): %s", err, r.Body)
	}
}

// Do sends a request to the server. body is sent as is when it is a string
// or []byte, as JSON otherwise; nil sends no body.
func (s *Server) Do(tb testing.TB, method, path string, body any, header ...string) *Response {
	tb.Helper()
	var rd io.Reader
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			tb.Fatal(err)
		}
		raw = j
	}
	if body != nil {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.URL()+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	contractFor(tb, s.URL()).check(tb, req, raw, resp, b)
	// No response ever carries a password hash or root's password.
	if bytes.Contains(b, []byte("$argon2id$")) || bytes.Contains(b, []byte(RootPassword)) {
		tb.Fatalf("%s %s: the response carries a password hash or root's password: %.300s", method, path, b)
	}
	return &Response{Response: resp, Body: b}
}

// APIError is the easydb error body, as a client decodes it.
type APIError struct {
	Realm       string            `json:"realm"`
	Code        string            `json:"code"`
	Parameters  map[string]string `json:"parameters"`
	Description string            `json:"description"`
	UUID        string            `json:"uuid"`
}

// MustError asserts that r is an easydb error with the given status and
// code, and returns it.
func MustError(tb testing.TB, r *Response, status int, code string) APIError {
	tb.Helper()
	var e APIError
	if err := json.Unmarshal(r.Body, &e); err != nil {
		tb.Fatalf("want error %s, got status %d body %s", code, r.StatusCode, r.Body)
	}
	if r.StatusCode != status || e.Code != code {
		tb.Fatalf("want %d %s, got %d %s", status, code, r.StatusCode, r.Body)
	}
	return e
}

type config = server.Config
