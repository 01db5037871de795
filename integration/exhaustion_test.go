package integration

// Issue 23: what a client with no login could exhaust (memory through the
// HTTP method and session bodies, connections through slow bodies), and the
// exposed defaults (pprof, caching). Memory is measured on the real binary,
// a child process of the test, from /proc.

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/groupd/groupd/db/dbtest"
	"github.com/groupd/groupd/server"
	"github.com/groupd/groupd/session"
)

// startBinaryOnDB runs the groupd binary on a fresh test database and
// returns it with its base URL.
func startBinaryOnDB(t *testing.T, args ...string) (*proc, string) {
	t.Helper()
	env := []string{"GROUPD_DATABASE_URL=" + dbtest.NewDatabaseURL(t), "GROUPD_ROOT_PASSWORD=" + RootPassword}
	p := startBinary(t, nil, env, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	waitReady(t, p, "127.0.0.1:0", time.Minute)
	return p, listeningRE.FindStringSubmatch(p.out.String())[1]
}

// procStatusKiB reads a field in kB (VmRSS, VmHWM) of /proc/<pid>/status.
func procStatusKiB(t *testing.T, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("%s: %q", field, line)
			}
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// TestMethodBlowUp: invented HTTP methods, each as long as the header limit
// allows, add neither metric series nor long log lines, and a longer one is
// refused by net/http. Before, 200 requests with a 1 MB method made
// /metrics 3.6 GB and grew the process by 378 MiB for good.
func TestMethodBlowUp(t *testing.T) {
	t.Parallel()
	p, base := startBinaryOnDB(t)
	pid := p.cmd.Process.Pid
	rssBefore := procStatusKiB(t, pid, "VmRSS")
	logBefore := len(p.out.String())

	const n, long = 300, 60 << 10 // long: under server.MaxHeaderBytes with the rest of the request
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	defer client.CloseIdleConnections()
	var wg sync.WaitGroup
	errs := make(chan error, n+20)
	sem := make(chan struct{}, 8)
	for i := range n + 20 {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			size := long
			if i >= n {
				size = 1 << 20 // beyond the header limit
			}
			method := fmt.Sprintf("M%05d", i) + strings.Repeat("X", size)
			req, _ := http.NewRequest(method, base+"/api/v1/group", nil)
			resp, err := client.Do(req)
			if err != nil {
				if i >= n {
					return // net/http may close the connection under the request
				}
				errs <- err
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch {
			case i < n && (resp.StatusCode != 400 || !bytes.Contains(body, []byte("error.api.invalid_request_method"))):
				errs <- fmt.Errorf("%d kB method: %d %.200s", size>>10, resp.StatusCode, body)
			case i >= n && resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge:
				errs <- fmt.Errorf("1 MB method: want 431, got %d", resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	rssAfter := procStatusKiB(t, pid, "VmRSS")
	logGrowth := len(p.out.String()) - logBefore
	t.Logf("/metrics %d bytes; log +%d bytes for %d requests; RSS %d -> %d MiB", len(metrics), logGrowth, n+20,
		rssBefore>>10, rssAfter>>10)
	if !bytes.Contains(metrics, []byte(`method="OTHER"`)) || bytes.Contains(metrics, []byte("XXXX")) {
		t.Fatalf("/metrics should count the invented methods as OTHER and never name them")
	}
	if len(metrics) > 256<<10 {
		t.Fatalf("/metrics is %d bytes after %d invented methods", len(metrics), n)
	}
	if logGrowth > (n+20)*1024 {
		t.Fatalf("the log grew by %d bytes for %d requests", logGrowth, n+20)
	}
	if growth := (rssAfter - rssBefore) >> 10; growth > 200 {
		t.Fatalf("RSS grew by %d MiB", growth)
	}
}

// repeatReader yields one byte forever.
type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// TestSessionBodyCapUnderLoad: sixteen concurrent 32 MiB bodies to the
// session endpoints, half with a Content-Length and half chunked, leave the
// server's peak memory within 200 MiB of what it was: a session call's body
// is read no further than session.MaxParamsBody. Before, eight such bodies
// to /api/v1/session/authenticate peaked at 9.2 GiB.
func TestSessionBodyCapUnderLoad(t *testing.T) {
	t.Parallel()
	p, base := startBinaryOnDB(t)
	pid := p.cmd.Process.Pid
	rssBefore := procStatusKiB(t, pid, "VmRSS")

	const size = 32 << 20
	paths := []string{"/api/v1/session/authenticate", "/api/v1/session", "/api/v1/session/deauthenticate"}
	var wg sync.WaitGroup
	var mu sync.Mutex
	answered := 0
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			prefix := `{"token":"x","login":"`
			body := io.MultiReader(strings.NewReader(prefix), io.LimitReader(repeatReader('a'), int64(size-len(prefix)-2)),
				strings.NewReader(`"}`))
			method := http.MethodPost
			path := paths[i%len(paths)]
			if path == "/api/v1/session" {
				method = http.MethodGet
			}
			req, _ := http.NewRequest(method, base+path, body)
			req.Header.Set("Content-Type", "application/json")
			if i%2 == 0 {
				req.ContentLength = size
			} // else chunked: the server learns the size only by reading
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr}).Do(req)
			if err != nil {
				return // the server closed the connection under the rest of the body
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var e APIError
			if json.Unmarshal(b, &e) != nil || resp.StatusCode != 400 || e.Code != "error.api.invalid_content" ||
				e.Parameters["limit"] != strconv.Itoa(session.MaxParamsBody) {
				t.Errorf("%s %s of 32 MiB: %d %.200s", method, path, resp.StatusCode, b)
			}
			mu.Lock()
			answered++
			mu.Unlock()
		}()
	}
	wg.Wait()
	peak := procStatusKiB(t, pid, "VmHWM")
	t.Logf("RSS before %d MiB, peak after 16 x 32 MiB bodies %d MiB; %d answered before the connection closed",
		rssBefore>>10, peak>>10, answered)
	if growth := (peak - rssBefore) >> 10; growth > 200 {
		t.Fatalf("peak RSS grew by %d MiB", growth)
	}
	// The server is fine afterwards.
	resp, err := http.Get(base + "/api/v1/session")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("a session after the flood: %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestSessionParamsStrict: a session call's JSON body is an object of
// strings with known keys, within session.MaxParamsBody; the same keys
// only in a form body.
func TestSessionParamsStrict(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	tok := sessNew(t, s).Token
	form := []string{"Content-Type", "application/x-www-form-urlencoded"}

	e := MustError(t, s.Do(t, "POST", "/api/v1/session/authenticate",
		`{"token":"`+tok+`","login":"root","password":"x","admin":true}`), 400, "error.api.attribute_not_accepted")
	if e.Parameters["attribute"] != "admin" {
		t.Fatalf("unknown key: %v", e.Parameters)
	}
	e = MustError(t, s.Do(t, "POST", "/api/v1/session/authenticate", url.Values{"token": {tok}, "login": {"root"},
		"password": {"x"}, "admin": {"1"}}.Encode(), form...), 400, "error.api.attribute_not_accepted")
	if e.Parameters["attribute"] != "admin" {
		t.Fatalf("unknown form key: %v", e.Parameters)
	}
	e = MustError(t, s.Do(t, "POST", "/api/v1/session/authenticate", `{"token":"`+tok+`","login":{"$ne":""}}`),
		400, "error.api.type_mismatch")
	if e.Parameters["attribute"] != "login" {
		t.Fatalf("wrong type: %v", e.Parameters)
	}
	MustError(t, s.Do(t, "GET", "/api/v1/session", `{"language":"de-DE"} {"token":"x"}`), 400, "error.api.invalid_content")
	over := `{"token":"` + tok + `","login":"root","password":"` + strings.Repeat("p", session.MaxParamsBody) + `"}`
	e = MustError(t, s.Do(t, "POST", "/api/v1/session/authenticate", over), 400, "error.api.invalid_content")
	if e.Parameters["limit"] != strconv.Itoa(session.MaxParamsBody) {
		t.Fatalf("over the limit: %v", e.Parameters)
	}
	// A form body read for a token on another API is held to the same limit.
	e = MustError(t, s.Do(t, "POST", "/api/v1/group", "token="+tok+"&pad="+strings.Repeat("p", session.MaxParamsBody),
		form...), 400, "error.api.invalid_content")
	if e.Parameters["limit"] != strconv.Itoa(session.MaxParamsBody) {
		t.Fatalf("form token over the limit: %v", e.Parameters)
	}
	// What fits, with null for absent, logs in.
	o := sessDecode(t, s.Do(t, "POST", "/api/v1/session/authenticate",
		`{"token":"`+tok+`","login":"root","password":"`+RootPassword+`","method":null,"language":null}`))
	if o.User == nil {
		t.Fatalf("login: %s", o.raw)
	}
}

// trickle opens a connection that sends a request's headers and then its
// body one byte every interval, until the server answers or closes it. It
// returns the answer (nil if none came), how many body bytes were sent and
// whether the connection was closed afterwards.
func trickle(t *testing.T, addr, path, token string, contentLength int, interval time.Duration) (*http.Response, []byte, int, bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Error(err)
		return nil, nil, 0, false
	}
	defer c.Close()
	// A safety net only: a body of contentLength bytes at this pace would
	// take far longer to arrive.
	c.SetDeadline(time.Now().Add(2 * time.Minute))
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: groupd\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"+
		"X-Easydb-Token: %s\r\n\r\n", path, contentLength, token)
	var sent int
	var mu sync.Mutex
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(interval):
			}
			if _, writeErr := c.Write([]byte(" ")); writeErr != nil {
				return
			}
			mu.Lock()
			sent++
			mu.Unlock()
		}
	}()
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	close(stop)
	if err != nil {
		t.Errorf("trickling client: no answer: %v", err)
		return nil, nil, 0, false
	}
	body, _ := io.ReadAll(resp.Body)
	_, err = br.ReadByte()
	mu.Lock()
	defer mu.Unlock()
	return resp, body, sent, err != nil
}

// TestSlowBodyCutOff: clients trickling their bodies are answered with a
// typed error and their connections closed once they fall behind the
// minimum rate (timeout 2 s, 100 bytes/s), while /healthz keeps answering;
// a client that is slow but above the rate is served. Before, a body could
// hold its connection forever, and 20,000 of them exhausted the file
// descriptors.
func TestSlowBodyCutOff(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t, func(c *config) {
		c.BodyReadTimeout = 2 * time.Second
		c.BodyMinRate = 100
	})
	addr := strings.TrimPrefix(s.URL(), "http://")

	healthDone := make(chan struct{})
	healthErr := make(chan error, 1)
	healthy := 0
	go func() {
		defer close(healthErr)
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		for {
			select {
			case <-healthDone:
				return
			case <-time.After(50 * time.Millisecond):
			}
			resp, err := client.Get(s.URL() + "/healthz")
			if err != nil {
				healthErr <- err
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				healthErr <- fmt.Errorf("/healthz: %d", resp.StatusCode)
				return
			}
			healthy++
		}
	}()

	// Bodies that the handler reads (a session call within its limit, bulk
	// writes by root) and one it refuses before reading (no login), whose
	// rest net/http reads to keep the connection. At 5 bytes per second the
	// shortest, 4,000 bytes, would take 13 minutes.
	root := s.Root(t).Token
	cases := []struct{ path, token, code string }{
		{"/api/v1/session/authenticate", "", "error.api.invalid_content"},
		{"/api/v1/group", root, "error.api.invalid_content"},
		{"/api/v1/user", root, "error.api.invalid_content"},
		{"/api/v1/group", "", "error.user.not_authenticated"},
	}
	const tricklers = 20
	var wg sync.WaitGroup
	start := time.Now()
	for i := range tricklers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := cases[i%len(cases)]
			length := 100000
			if c.token == "" {
				length = 4000 // within session.MaxParamsBody
			}
			resp, body, sent, closed := trickle(t, addr, c.path, c.token, length, 200*time.Millisecond)
			if resp == nil {
				return
			}
			path := c.path
			var e APIError
			if json.Unmarshal(body, &e) != nil || resp.StatusCode != 400 || e.Code != c.code ||
				(c.code == "error.api.invalid_content" && (e.Parameters["min_rate"] != "100" || e.Parameters["timeout"] != "2s")) {
				t.Errorf("trickler on %s: %d %s", path, resp.StatusCode, body)
			}
			if !closed {
				t.Errorf("trickler on %s: the connection stayed open after the answer", path)
			}
			if sent >= length {
				t.Errorf("trickler on %s: sent its whole body", path)
			}
		}()
	}
	wg.Wait()
	cut := time.Since(start)
	close(healthDone)
	if err := <-healthErr; err != nil {
		t.Fatalf("/healthz while %d clients trickled: %v", tricklers, err)
	}
	t.Logf("%d trickling clients cut off after %v; /healthz answered %d times meanwhile", tricklers, cut, healthy)
	if healthy == 0 {
		t.Fatal("/healthz never answered while the clients trickled")
	}

	// Slow but above the rate: 50 bytes every 100 ms (500 B/s, five times
	// the minimum) for a 3,000-byte body, 6 s, three times the timeout.
	tok := sessNew(t, s).Token
	body := `{"token":"` + tok + `","login":"root","password":"` + RootPassword + `"}`
	body += strings.Repeat(" ", 3000-len(body))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /api/v1/session/authenticate HTTP/1.1\r\nHost: groupd\r\nContent-Type: application/json\r\n"+
		"Content-Length: %d\r\n\r\n", len(body))
	for rest := body; rest != ""; {
		n := min(50, len(rest))
		if _, writeErr := c.Write([]byte(rest[:n])); writeErr != nil {
			t.Fatalf("slow but sufficient client cut off: %v", writeErr)
		}
		rest = rest[n:]
		time.Sleep(100 * time.Millisecond)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !bytes.Contains(b, []byte(`"authenticated"`)) {
		t.Fatalf("slow but sufficient client: %d %s", resp.StatusCode, b)
	}
}

// TestConnectionCap: with -max-conns reached, a new connection waits in the
// backlog (using no file descriptor of groupd's) and is served as soon as
// another closes.
func TestConnectionCap(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t, func(c *config) { c.MaxConns = 3 })
	addr := strings.TrimPrefix(s.URL(), "http://")
	var held []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte("GET /healthz HTTP/1.1\r\n")) // and never the rest
		held = append(held, c)
	}
	done := make(chan error, 1)
	go func() {
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := client.Get(s.URL() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != 200 {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
		}
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("a fourth connection was served while three were open (-max-conns 3): %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	held[0].Close()
	if err := <-done; err != nil {
		t.Fatalf("/healthz after a connection closed: %v", err)
	}
}

// TestPprofLoopbackOnly: -pprof-addr refuses an address other hosts can
// reach unless -pprof-allow-remote says so.
func TestPprofLoopbackOnly(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		cfg := server.DefaultConfig()
		cfg.Addr, cfg.DatabaseURL, cfg.RootPassword, cfg.PprofAddr = "127.0.0.1:0", dbtest.NewDatabaseURL(t), RootPassword, addr
		cfg.LogOutput = io.Discard
		m := server.NewMain(cfg)
		err := m.Open(context.Background())
		if err == nil {
			m.Close()
			t.Fatalf("-pprof-addr %s was accepted", addr)
		}
		if !strings.Contains(err.Error(), "loopback") || !strings.Contains(err.Error(), "-pprof-allow-remote") {
			t.Fatalf("-pprof-addr %s: %v", addr, err)
		}
	}
	local := MustStartServer(t, func(c *config) { c.PprofAddr = "localhost:0" })
	remote := MustStartServer(t, func(c *config) { c.PprofAddr, c.PprofAllowRemote = "0.0.0.0:0", true })
	for _, s := range []*Server{local, remote} {
		m := regexpPprof.FindStringSubmatch(s.Logs.String())
		if m == nil {
			t.Fatalf("no pprof listener:\n%s", s.Logs.String())
		}
		_, port, _ := net.SplitHostPort(m[1])
		resp, err := http.Get("http://127.0.0.1:" + port + "/debug/pprof/")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("pprof on %s: %v %v", m[1], resp, err)
		}
		resp.Body.Close()
	}
}

var regexpPprof = regexp.MustCompile(`msg="pprof listening" addr=(\S+)`)

// TestNoStore: API answers, successes and errors alike, are not to be
// cached; the console's files keep their own policy.
func TestNoStore(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	for name, r := range map[string]*Response{
		"group list":  root.Do(t, "GET", "/api/v1/group", nil),
		"user":        root.Do(t, "GET", "/api/v1/user", nil),
		"events":      root.Do(t, "GET", "/api/v1/events", nil),
		"error":       s.Do(t, "GET", "/api/v1/group", nil),
		"unknown api": s.Do(t, "GET", "/api/v1/nothing", nil),
		"session":     s.Do(t, "GET", "/api/v1/session", nil),
		"healthz":     s.Do(t, "GET", "/healthz", nil),
	} {
		if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", name, cc)
		}
	}
	if cc := s.Do(t, "GET", "/console/", nil).Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("console: Cache-Control %q, want its own no-cache", cc)
	}
}

// TestManagedPostgresSecretsAndAuth: the managed PostgreSQL's processes
// inherit nothing of groupd's environment beyond what they need (neither
// root's password nor any other variable), and its socket admits groupd's
// OS user as postgres by peer authentication, not everyone by trust: a role
// that exists but no OS user maps to is refused.
func TestManagedPostgresSecretsAndAuth(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "var")
	secret := fmt.Sprintf("managed-secret-%d", time.Now().UnixNano())
	env := []string{"GROUPD_ROOT_PASSWORD=" + secret, "GROUPD_TEST_CANARY=canary-" + secret,
		"GROUPD_DATABASE_URL=", "DATABASE_URL="}
	p := startBinary(t, nil, env, "-addr", "127.0.0.1:0", "-data-dir", dataDir)
	waitReady(t, p, "127.0.0.1:0", time.Minute)
	defer stopBinary(t, p, dataDir)

	pids := postgresFor(dataDir)
	if len(pids) == 0 {
		t.Fatal("no postgres process found")
	}
	for _, pid := range pids {
		environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil {
			continue // a backend that has just exited
		}
		// Names only in the message: the environment may hold secrets.
		var names []string
		for _, kv := range strings.Split(string(environ), "\x00") {
			name, _, _ := strings.Cut(kv, "=")
			if name != "" {
				names = append(names, name)
			}
		}
		if bytes.Contains(environ, []byte(secret)) || bytes.Contains(environ, []byte("GROUPD_")) {
			t.Fatalf("postgres process %d inherited groupd's environment: %v", pid, names)
		}
	}

	pidFile, err := os.ReadFile(filepath.Join(dataDir, "pg", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(pidFile), "\n")
	if len(lines) < 5 {
		t.Fatalf("postmaster.pid: %q", pidFile)
	}
	connect := func(role string) (*sql.DB, error) {
		d, openErr := sql.Open("postgres", fmt.Sprintf("postgres:///postgres?host=%s&user=%s&sslmode=disable", lines[4], role))
		if openErr != nil {
			return nil, openErr
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if pingContextErr := d.PingContext(ctx); pingContextErr != nil {
			d.Close()
			return nil, pingContextErr
		}
		return d, nil
	}
	su, err := connect("postgres")
	if err != nil {
		t.Fatalf("groupd's OS user as postgres: %v", err)
	}
	defer su.Close()
	rows, err := su.Query(`SELECT type, auth_method, coalesce(error, '') FROM pg_hba_file_rules`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var typ, method, ruleErr string
		if err := rows.Scan(&typ, &method, &ruleErr); err != nil {
			t.Fatal(err)
		}
		if typ != "local" || method != "peer" || ruleErr != "" {
			t.Errorf("pg_hba rule %s %s %s: want local peer only", typ, method, ruleErr)
		}
		n++
	}
	rows.Close()
	if n == 0 {
		t.Fatal("no pg_hba rules")
	}
	if _, err := su.Exec(`CREATE ROLE intruder LOGIN`); err != nil {
		t.Fatal(err)
	}
	if d, err := connect("intruder"); err == nil {
		d.Close()
		t.Fatal("a role no OS user maps to connected: the socket trusts whoever reaches it")
	} else if !strings.Contains(err.Error(), "authentication failed") {
		t.Fatalf("want a refused authentication, got %v", err)
	}
}
