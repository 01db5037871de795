package integration

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// groupdBinary builds cmd/groupd once per test binary.
func groupdBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "groupd-bin-")
		if err != nil {
			buildErr = err
			return
		}
		os.Chmod(dir, 0o755)
		binPath = filepath.Join(dir, "groupd")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/groupd/groupd/cmd/groupd").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// proc is the groupd binary running as a child of the test.
type proc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan error
}

func startBinary(t *testing.T, cred *syscall.Credential, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(groupdBinary(t), args...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, out: out, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// waitReady waits until the binary logs the address it listens on and that
// address answers /readyz with 200; it returns how long that took. The
// address is read from the process's own log, never assumed from the one it
// was asked for (addr, for the messages only): a port chosen free beforehand
// may meanwhile belong to another test's server.
func waitReady(t *testing.T, p *proc, addr string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < within {
		if m := listeningRE.FindStringSubmatch(p.out.String()); m != nil {
			resp, err := http.Get(m[1] + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return time.Since(start)
				}
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("groupd exited before ready: %v\n%s", err, p.out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("not ready on %s within %v\n%s", addr, within, p.out.String())
	return 0
}

var listeningRE = regexp.MustCompile(`msg="groupd listening" url=(http://127\.0\.0\.1:[0-9]+)`)

// postgresFor lists the pids of postgres processes running on dataDir.
func postgresFor(dataDir string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if bytes.Contains(stat, []byte(") Z ")) { // a zombie is gone, only not yet reaped
			continue
		}
		if bytes.Contains(cmdline, []byte(dataDir)) && strings.Contains(string(cmdline), "postgres") {
			pids = append(pids, pid)
		}
	}
	return pids
}

func stopBinary(t *testing.T, p *proc, dataDir string) {
	t.Helper()
	start := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("groupd exited with %v after SIGTERM\n%s", err, p.out.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("groupd did not stop within 10s of SIGTERM\n%s", p.out.String())
	}
	t.Logf("stopped in %v", time.Since(start))
	if pids := postgresFor(dataDir); len(pids) > 0 {
		t.Fatalf("postgres processes left after stop: %v", pids)
	}
}

// TestBinaryLifecycle is the "done when" for the managed database:
// ready within 15 s, SIGTERM ends it with exit 0 and no postgres left, a
// second run reuses the data, and kill -9 followed by a start works.
func TestBinaryLifecycle(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	runLifecycle(t, nil, dir)
}

// TestBinaryLifecycleUnprivileged runs the same as an ordinary user (when the
// test runs as root, as CI does; otherwise the test itself is that user).
func TestBinaryLifecycleUnprivileged(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		runLifecycle(t, nil, t.TempDir())
		return
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Fatalf("no user nobody to run as: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	dir, err := os.MkdirTemp("", "groupd-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chown(dir, uid, gid)
	groupdBinary(t)
	runLifecycle(t, &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, dir)
}

func runLifecycle(t *testing.T, cred *syscall.Credential, dir string) {
	dataDir := filepath.Join(dir, "var")
	env := []string{"GROUPD_ROOT_PASSWORD=lifecycle-secret", "GROUPD_DATABASE_URL=", "DATABASE_URL="}

	const addr = "127.0.0.1:0"
	p := startBinary(t, cred, env, "-addr", addr, "-data-dir", dataDir)
	t.Logf("first start ready in %v", waitReady(t, p, addr, 15*time.Second))
	stopBinary(t, p, dataDir)

	p = startBinary(t, cred, env, "-addr", addr, "-data-dir", dataDir)
	waitReady(t, p, addr, 15*time.Second)
	if strings.Contains(p.out.String(), "initialising PostgreSQL cluster") {
		t.Fatalf("second start initialised a new cluster instead of reusing the data\n%s", p.out.String())
	}
	p.cmd.Process.Kill() // kill -9
	<-p.done

	p = startBinary(t, cred, env, "-addr", addr, "-data-dir", dataDir)
	t.Logf("start after kill -9 ready in %v", waitReady(t, p, addr, 15*time.Second))
	stopBinary(t, p, dataDir)
}

func TestBinaryWithoutPostgres(t *testing.T) {
	t.Parallel()
	p := startBinary(t, nil, []string{"GROUPD_POSTGRES_BIN=" + t.TempDir(), "GROUPD_DATABASE_URL=", "DATABASE_URL="},
		"-addr", "127.0.0.1:0", "-data-dir", t.TempDir())
	select {
	case err := <-p.done:
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 1 {
			t.Fatalf("want exit code 1, got %v\n%s", err, p.out.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("groupd did not exit")
	}
	lines := 0
	sc := bufio.NewScanner(strings.NewReader(p.out.String()))
	for sc.Scan() {
		lines++
	}
	out := p.out.String()
	if lines != 1 || !strings.Contains(out, "install PostgreSQL") || !strings.Contains(out, "GROUPD_DATABASE_URL") {
		t.Fatalf("want one line naming both remedies, got:\n%s", out)
	}
}

func TestExternalDatabaseStartsNoCluster(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "var")
	s := MustStartServer(t, func(c *config) { c.DataDir = dataDir })
	if s.Managed != nil {
		t.Fatal("a managed cluster was started although a database URL was given")
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Fatalf("data dir was created: %v", err)
	}
	r := s.Do(t, "GET", "/readyz", nil)
	if r.StatusCode != 200 {
		t.Fatalf("readyz: %d %s", r.StatusCode, r.Body)
	}
}
