package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestTokenCommands: a job logs in with an API token instead of a
// password (login --token, or GROUPCTL_TOKEN alone), and token
// create|list|revoke manage the tokens.
func TestTokenCommands(t *testing.T) {
	s := startServer(t)
	root := loggedIn(t, s)

	c := root.must("token", "create", "nightly sync", "--expires", "90d")
	secret := strings.TrimSpace(c.stdout)
	if !strings.HasPrefix(secret, "gdp_") || len(secret) != 47 || !strings.Contains(c.stderr, "shown only now") {
		t.Fatalf("token create: stdout %q stderr %q", c.stdout, c.stderr)
	}
	ro := root.must("token", "create", "reader", "--read-only", "--json")
	var roTok struct {
		ID     int64  `json:"_id"`
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal([]byte(ro.stdout), &roTok); err != nil || roTok.ID == 0 || roTok.Secret == "" {
		t.Fatalf("token create --json: %v %s", err, ro.stdout)
	}
	root.expect(exitUsage, "--expires must be", "token", "create", "x", "--expires", "soon")
	root.expect(exitRefused, "error.api.invalid_value", "token", "create", "x", "--expires", "2001-01-01T00:00:00Z")

	// login --token, the token from standard input; then commands run as root.
	job := newCLI(t)
	job.stdin = secret + "\n"
	r := job.must("login", "--url", s.URL(), "--token")
	if !strings.Contains(r.stdout, "as root with an API token") {
		t.Fatalf("login --token said %q", r.stdout)
	}
	job.stdin = ""
	if r := job.must("group", "create", "--name", "made-by-job"); !strings.Contains(r.stdout, "made-by-job") {
		t.Fatalf("group create with the token: %q", r.stdout)
	}
	job.expect(exitUsage, "--login or --token", "login", "--url", s.URL(), "--token", "--login", "root")

	// GROUPCTL_TOKEN alone, without a login: a read-only token may read but
	// not write.
	env := newCLI(t)
	env.env["GROUPCTL_URL"], env.env["GROUPCTL_TOKEN"] = s.URL(), roTok.Secret
	env.must("group", "list")
	env.expect(exitRefused, "error.user.insufficient_rights", "group", "create", "--name", "refused")

	// list shows no secret; revoke stops the token.
	l := root.must("token", "list")
	if strings.Contains(l.stdout, "gdp_") || !strings.Contains(l.stdout, "nightly sync") ||
		!strings.Contains(l.stdout, "read-only") || !strings.Contains(l.stdout, "127.0.0.1") {
		t.Fatalf("token list:\n%s", l.stdout)
	}
	root.must("token", "revoke", itoa(roTok.ID))
	env.expect(exitRefused, "error.user.session_not_found", "group", "list")
	root.expect(exitUsage, "no token id", "token", "revoke", "abc")
	if strings.Contains(env.must("version").stdout+l.stdout, roTok.Secret) {
		t.Fatal("a secret was printed after its creation")
	}
}
