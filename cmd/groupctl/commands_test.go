package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoginWhoamiLogout(t *testing.T) {
	s := startServer(t)
	c := newCLI(t)

	// No session yet: refused, with the code.
	c.expect(exitRefused, "error.user.not_authenticated", "whoami")
	c.expect(exitUsage, "--url is required", "login", "--login", "root")
	c.expect(exitUsage, "unknown command", "frobnicate")
	c.expect(exitUsage, "flag provided but not defined", "group", "list", "--bogus")

	// Password from standard input (not a terminal); a wrong one is refused.
	c.stdin = "wrong\n"
	c.expect(exitRefused, "error.user.login_failed", "login", "--url", s.URL(), "--login", "root")
	c.stdin = rootPassword + "\n"
	r := c.must("login", "--url", s.URL(), "--login", "root")
	if !strings.Contains(r.stdout, "logged in to "+s.URL()+" as root") {
		t.Fatalf("login said %q", r.stdout)
	}
	p := filepath.Join(c.env["XDG_CONFIG_HOME"], "groupctl", "config.json")
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("config mode %v, want 0600", st.Mode().Perm())
	}
	var cfg config
	b, _ := os.ReadFile(p)
	if err := json.Unmarshal(b, &cfg); err != nil || cfg.Token == "" || cfg.URL != s.URL() || cfg.Login != "root" {
		t.Fatalf("config %s (%v)", b, err)
	}

	r = c.must("whoami")
	for _, want := range []string{"root", "system.root", ":all"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("whoami lacks %q:\n%s", want, r.stdout)
		}
	}
	r = c.must("whoami", "--json")
	var sess struct {
		User struct {
			User struct {
				ID int64 `json:"_id"`
			} `json:"user"`
		} `json:"user"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &sess); err != nil || sess.User.User.ID != 1 {
		t.Fatalf("whoami --json: %v %s", err, r.stdout)
	}

	c.must("logout")
	c.expect(exitRefused, "error.user.not_authenticated", "whoami")

	// GROUPCTL_PASSWORD, and a server that is not there: exit 3.
	c.env["GROUPCTL_PASSWORD"] = rootPassword
	c.must("login", "--url", s.URL(), "--login", "root")
	c.expect(exitServer, "connection refused", "login", "--url", "http://127.0.0.1:1", "--login", "root")
}

func TestGroupCommands(t *testing.T) {
	s := startServer(t)
	c := loggedIn(t, s)

	r := c.must("group", "create", "--name", "editors", "--displayname", "en-US=Editors", "--displayname",
		"de-DE=Redakteure", "--reference", "ldap:editors", "--comment", "the editors")
	if !strings.Contains(r.stdout, "displayname:de-DE") || !strings.Contains(r.stdout, "Redakteure") {
		t.Fatalf("create printed:\n%s", r.stdout)
	}
	// The same name again: refused with the server's code and parameters.
	c.expect(exitRefused, "group create: group.name is already taken (error.user.integrity_constraint_violation, constraint=group.name)",
		"group", "create", "--name", "editors")
	c.expect(exitRefused, "error.api.invalid_value", "group", "create", "--name", "x", "--type", "nonsense")

	r = c.must("group", "list")
	if !strings.Contains(r.stdout, "editors") || !strings.Contains(r.stdout, ":all") {
		t.Fatalf("list:\n%s", r.stdout)
	}
	r = c.must("group", "list", "--json", "--type", "easydb")
	var groups []struct {
		Group struct {
			ID        int64   `json:"_id"`
			Version   int64   `json:"_version"`
			Name      string  `json:"name"`
			Reference *string `json:"reference"`
			Comment   *string `json:"comment"`
		} `json:"group"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &groups); err != nil || len(groups) != 1 {
		t.Fatalf("list --json: %v %s", err, r.stdout)
	}
	// By reference, by name, by id.
	for _, key := range []string{"ldap:editors", "editors", "Redakteure", itoa(groups[0].Group.ID)} {
		r = c.must("group", "get", key, "--json")
		if !strings.Contains(r.stdout, `"name": "editors"`) {
			t.Fatalf("get %s: %s", key, r.stdout)
		}
	}
	c.expect(exitRefused, "error.user.group_not_found", "group", "get", "nobody-has-this")

	c.must("group", "update", "editors", "--comment", "", "--displayname", "de-DE=", "--name", "editors2")
	r = c.must("group", "get", "ldap:editors", "--json")
	var g []byte = []byte(r.stdout)
	if !strings.Contains(string(g), `"comment": null`) || strings.Contains(string(g), "Redakteure") ||
		!strings.Contains(string(g), `"_version": 2`) {
		t.Fatalf("after update: %s", g)
	}
	c.expect(exitUsage, "nothing to change", "group", "update", "editors2")

	r = c.must("group", "delete", "editors2")
	if !strings.Contains(r.stdout, "deleted group") {
		t.Fatalf("delete: %s", r.stdout)
	}
	c.expect(exitRefused, "error.user.delete_system_group", "group", "delete", ":all")
}

func TestUserAndMembersCommands(t *testing.T) {
	s := startServer(t)
	c := loggedIn(t, s)
	c.must("group", "create", "--name", "staff", "--reference", "g-staff")
	r := c.must("user", "create", "--login", "alice", "--first-name", "Alice", "--last-name", "Liddell",
		"--email", "alice@example.org", "--group", "g-staff")
	if !strings.Contains(r.stdout, "alice@example.org") || !strings.Contains(r.stdout, "staff") {
		t.Fatalf("user create:\n%s", r.stdout)
	}
	c.must("user", "create", "--login", "bob", "--reference", "u-bob")
	r = c.must("user", "list")
	if !strings.Contains(r.stdout, "alice") || !strings.Contains(r.stdout, "bob") {
		t.Fatalf("user list:\n%s", r.stdout)
	}
	c.must("user", "update", "u-bob", "--displayname", "Bobby")
	r = c.must("user", "get", "bob")
	if !strings.Contains(r.stdout, "Bobby") {
		t.Fatalf("user get:\n%s", r.stdout)
	}

	r = c.must("members", "add", "staff", "bob", "alice")
	if !strings.Contains(r.stdout, "bob: added") || !strings.Contains(r.stdout, "alice: already_member") {
		t.Fatalf("members add:\n%s", r.stdout)
	}
	r = c.must("members", "list", "g-staff")
	if !strings.Contains(r.stdout, "alice") || !strings.Contains(r.stdout, "bob") {
		t.Fatalf("members list:\n%s", r.stdout)
	}
	r = c.must("group", "list", "--member", "bob")
	if !strings.Contains(r.stdout, "staff") {
		t.Fatalf("group list --member:\n%s", r.stdout)
	}
	r = c.must("members", "remove", "staff", "alice", "--json")
	if !strings.Contains(r.stdout, `"removed"`) {
		t.Fatalf("members remove --json:\n%s", r.stdout)
	}
	c.expect(exitRefused, "error.user.user_not_found", "members", "add", "staff", "nobody")
	c.expect(exitRefused, "error.user.delete_system_user", "user", "delete", "root")
	c.must("user", "delete", "alice")
	c.expect(exitRefused, "error.user.user_not_found", "user", "get", "alice")
}

func itoa(n int64) string { return strings.TrimSpace(strings.Repeat(" ", 0) + jsonNum(n)) }

func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestProgressDisplays: a bar (items, rate, ETA) on a terminal, plain lines
// otherwise.
func TestProgressDisplays(t *testing.T) {
	var buf strings.Builder
	a := &app{env: &env{stderr: &buf, stderrTerminal: func() bool { return true }}}
	p := a.newProgress("groups", 10)
	p.Add(4)
	p.Add(6)
	p.Done()
	if s := buf.String(); !strings.Contains(s, "groups") || !strings.Contains(s, "10/10") || !strings.Contains(s, "items/s") {
		t.Fatalf("bar: %q", s)
	}
	buf.Reset()
	a.stderrTerminal = func() bool { return false }
	p = a.newProgress("users", 3)
	p.Add(1)
	p.Add(2)
	p.Done()
	if s := buf.String(); !strings.Contains(s, "users: 1/3 items (33%)") || !strings.Contains(s, "users: 3/3 items (100%)") {
		t.Fatalf("lines: %q", s)
	}
}

// TestProgressRateAndInterrupt: the rate is items per second over the last
// rateWindow, none before minRateSpan; a display stopped early (Ctrl-C)
// stays where the work stopped.
func TestProgressRateAndInterrupt(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := newRateMeter(t0)
	m.add(t0.Add(12*time.Microsecond), 1000) // one batch answered at once
	if _, ok := m.rate(t0.Add(12 * time.Microsecond)); ok {
		t.Fatal("a rate after 12 microseconds")
	}
	// 10 s at 1000 items/s, then 10 s at 100 items/s: the rate follows.
	done := 1000
	for s := 1; s <= 10; s++ {
		done += 1000
		m.add(t0.Add(time.Duration(s)*time.Second), done)
	}
	if r, ok := m.rate(t0.Add(10 * time.Second)); !ok || r < 999 || r > 1001 {
		t.Fatalf("rate %v %v, want 1000", r, ok)
	}
	for s := 11; s <= 20; s++ {
		done += 100
		m.add(t0.Add(time.Duration(s)*time.Second), done)
	}
	if r, _ := m.rate(t0.Add(20 * time.Second)); r < 99 || r > 101 {
		t.Fatalf("rate %v after slowing down, want 100", r)
	}
	if len(m.samples) > 7 {
		t.Fatalf("%d samples kept for a 5 s window of 1 s samples", len(m.samples))
	}
	if d := m.describe(t0.Add(20*time.Second), 5000, 6000); d != "100 items/s, ETA 10s" {
		t.Fatalf("describe: %q", d)
	}

	var buf strings.Builder
	a := &app{env: &env{stderr: &buf, stderrTerminal: func() bool { return false }}}
	p := a.newProgress("groups", 10)
	p.Add(4)
	p.Done() // interrupted
	if s := buf.String(); !strings.HasSuffix(s, "groups: 4/10 items (40%), - items/s\n") || strings.Contains(s, "100%") {
		t.Fatalf("interrupted lines: %q", s)
	}
	buf.Reset()
	a.stderrTerminal = func() bool { return true }
	p = a.newProgress("groups", 10)
	p.Add(4)
	p.Done()
	if s := buf.String(); !strings.Contains(s, "4/10") || strings.Contains(s, "10/10") || strings.Contains(s, "100%") {
		t.Fatalf("interrupted bar: %q", s)
	}
}
