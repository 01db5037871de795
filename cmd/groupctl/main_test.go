package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/groupd/groupd/db/dbtest"
	"github.com/groupd/groupd/openapi"
	"github.com/groupd/groupd/server"
)

// The tests run groupctl's run() in this process against the real server
// (server.Main on a fresh database, as cmd/groupd runs it), over real HTTP.
// Every exchange groupctl makes is checked against the OpenAPI document, as
// the integration package checks its own.

func TestMain(m *testing.M) { dbtest.Main(m) }

const rootPassword = "root-secret-for-groupctl-tests"

type testServer struct {
	*server.Main
	logs *syncBuffer
}

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

func startServer(tb testing.TB) *testServer {
	tb.Helper()
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DatabaseURL = dbtest.NewDatabaseURL(tb)
	cfg.RootPassword = rootPassword
	cfg.ShutdownTimeout = 5 * time.Second
	logs := &syncBuffer{}
	cfg.LogOutput = logs
	cfg.LogLevel = slog.LevelWarn
	m := server.NewMain(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := m.Open(ctx); err != nil {
		tb.Fatalf("start server: %v\n%s", err, logs.String())
	}
	tb.Cleanup(func() {
		if err := m.Close(); err != nil {
			tb.Errorf("stop server: %v", err)
		}
		if tb.Failed() {
			s := logs.String()
			if len(s) > 4000 {
				s = s[len(s)-4000:]
			}
			tb.Logf("server log:\n%s", s)
		}
	})
	return &testServer{Main: m, logs: logs}
}

// cli runs groupctl with its own config directory.
type cli struct {
	t      testing.TB
	env    map[string]string
	http   *http.Client
	checks *contractTransport
	stdin  string
	// prompt, when set, is the terminal's password prompt (standard input
	// is then a terminal).
	prompt func() (string, error)
}

func newCLI(tb testing.TB) *cli {
	ct := &contractTransport{tb: tb, base: http.DefaultTransport, counts: map[string]*atomic.Int64{}}
	return &cli{t: tb, env: map[string]string{"XDG_CONFIG_HOME": tb.TempDir(), "HOME": tb.TempDir()},
		http: &http.Client{Transport: ct, Timeout: 5 * time.Minute}, checks: ct}
}

// loggedIn is a cli logged in as root on s.
func loggedIn(tb testing.TB, s *testServer) *cli {
	c := newCLI(tb)
	c.env["GROUPCTL_PASSWORD"] = rootPassword
	c.must("login", "--url", s.URL(), "--login", "root")
	delete(c.env, "GROUPCTL_PASSWORD")
	return c
}

type result struct {
	stdout, stderr string
	code           int
}

func (c *cli) run(args ...string) result {
	c.t.Helper()
	var out, errb bytes.Buffer
	e := &env{
		stdin:          strings.NewReader(c.stdin),
		stdout:         &out,
		stderr:         &errb,
		getenv:         func(k string) string { return c.env[k] },
		stdinTerminal:  func() bool { return c.prompt != nil },
		stderrTerminal: func() bool { return false },
		readPassword:   c.prompt,
		http:           c.http,
	}
	code := run(context.Background(), args, e)
	return result{out.String(), errb.String(), code}
}

// runCancelAfter runs a command whose context is cancelled once n bulk
// writes have been answered, as Ctrl-C would.
func (c *cli) runCancelAfter(n int64, args ...string) result {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c.checks.mu.Lock()
	c.checks.afterWrite = func(done int64) {
		if done >= n {
			cancel()
		}
	}
	c.checks.mu.Unlock()
	defer func() {
		c.checks.mu.Lock()
		c.checks.afterWrite = nil
		c.checks.mu.Unlock()
	}()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
		getenv: func(k string) string { return c.env[k] }, http: c.http}
	code := run(ctx, args, e)
	return result{out.String(), errb.String(), code}
}

// must runs a command that has to succeed.
func (c *cli) must(args ...string) result {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 0 {
		c.t.Fatalf("groupctl %s: exit %d\nstdout: %.2000s\nstderr: %.2000s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// expect runs a command that has to end with code and print want (on
// standard output or error).
func (c *cli) expect(code int, want string, args ...string) result {
	c.t.Helper()
	r := c.run(args...)
	if r.code != code || !strings.Contains(r.stdout+r.stderr, want) {
		c.t.Fatalf("groupctl %s: want exit %d with %q, got exit %d\nstdout: %.2000s\nstderr: %.2000s",
			strings.Join(args, " "), code, want, r.code, r.stdout, r.stderr)
	}
	return r
}

func writeFile(tb testing.TB, name, content string) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// --- the contract check -------------------------------------------------------

var (
	routerMu sync.Mutex
	routers_ = map[string]routers.Router{}
)

// routerFor is a router of the OpenAPI document for one server address.
func routerFor(base string) (routers.Router, error) {
	routerMu.Lock()
	defer routerMu.Unlock()
	if r := routers_[base]; r != nil {
		return r, nil
	}
	doc, err := openapi.Parse()
	if err != nil {
		return nil, err
	}
	doc.Servers = openapi3.Servers{{URL: base}}
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	routers_[base] = r
	return r, nil
}

// contractTransport checks every exchange against the OpenAPI document and
// counts requests per method and path.
type contractTransport struct {
	tb     testing.TB
	base   http.RoundTripper
	mu     sync.Mutex
	counts map[string]*atomic.Int64
	// afterWrite, when set, is called after each answered bulk write with
	// the number of them so far.
	afterWrite func(int64)
	writes     int64
	// maxCheck: bodies larger than this are not validated (a 10^3-item
	// bulk answer costs seconds under the race detector); 0: no limit.
	maxCheck int
}

func (ct *contractTransport) count(key string) int64 {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if c := ct.counts[key]; c != nil {
		return c.Load()
	}
	return 0
}

func (ct *contractTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body.Close()
		reqBody = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	key := req.Method + " " + req.URL.Path
	ct.mu.Lock()
	if ct.counts[key] == nil {
		ct.counts[key] = &atomic.Int64{}
	}
	ct.counts[key].Add(1)
	ct.mu.Unlock()
	resp, err := ct.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if req.Method == "POST" || req.Method == "PUT" {
		ct.mu.Lock()
		ct.writes++
		if ct.afterWrite != nil {
			ct.afterWrite(ct.writes)
		}
		ct.mu.Unlock()
	}
	if ct.maxCheck == 0 || (len(reqBody) <= ct.maxCheck && len(respBody) <= ct.maxCheck) {
		if msg := checkContract(req, reqBody, resp, respBody); msg != "" {
			ct.tb.Errorf("contract: %s", msg)
		}
	}
	return resp, nil
}

func checkContract(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) string {
	router, err := routerFor(req.URL.Scheme + "://" + req.URL.Host)
	if err != nil {
		return "openapi: " + err.Error()
	}
	check := req.Clone(context.Background())
	check.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := router.FindRoute(check)
	if err != nil {
		return req.Method + " " + req.URL.Path + " is not in the OpenAPI document: " + err.Error()
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true}
	in := &openapi3filter.RequestValidationInput{Request: check, PathParams: params, Route: route, Options: opts}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil && resp.StatusCode < 300 {
		return "the server accepted a request the document does not allow: " + req.Method + " " + req.URL.Path +
			": " + firstLine(err)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode,
		Header: resp.Header, Body: io.NopCloser(bytes.NewReader(respBody)), Options: opts}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return "response of " + req.Method + " " + req.URL.Path + " does not match the document: " + firstLine(err)
	}
	return ""
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.Index(s, "\nSchema:"); i > 0 {
		s = s[:i]
	}
	if len(s) > 600 {
		s = s[:600]
	}
	return s
}
