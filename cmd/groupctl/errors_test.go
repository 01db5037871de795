package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestErrorsInWords: failures are said in words with the easydb code after,
// never with a token; with --json they are JSON; an empty password and a
// bad URL are refused before anything is sent, an unreachable server before
// the password prompt, and a command for another server than the saved
// session's says so.
func TestErrorsInWords(t *testing.T) {
	s := startServer(t)
	c := newCLI(t)

	c.stdin = "wrong\n"
	r := c.expect(exitRefused, "groupctl: login failed: wrong login or password (error.user.login_failed)\n",
		"login", "--url", s.URL(), "--login", "root")
	if strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("login failure printed more than one line:\n%s", r.stderr)
	}
	r = c.expect(exitRefused, "", "login", "--url", s.URL(), "--login", "root", "--json")
	var je jsonError
	if err := json.Unmarshal([]byte(r.stderr), &je); err != nil || je.Error.Code != "error.user.login_failed" ||
		je.Error.Message != "wrong login or password (error.user.login_failed)" || je.ExitCode != exitRefused {
		t.Fatalf("--json error %q: %+v %v", r.stderr, je, err)
	}

	// An empty password: refused here, the server is asked nothing but a
	// session (the reachability check).
	c.stdin = "\n"
	c.expect(exitUsage, "no password", "login", "--url", s.URL(), "--login", "root")
	c.prompt = func() (string, error) { return "", nil }
	c.expect(exitUsage, "empty password", "login", "--url", s.URL(), "--login", "root")
	if n := c.checks.count("POST /api/v1/session/authenticate"); n != 2 {
		t.Fatalf("%d authentications sent, want 2 (the wrong passwords only)", n)
	}

	// An unreachable server is said before the prompt.
	c.prompt = func() (string, error) { t.Fatal("prompted for a password for an unreachable server"); return "", nil }
	c.expect(exitServer, "cannot be reached", "login", "--url", "http://127.0.0.1:1", "--login", "root")

	// URLs: no scheme is http://; anything else that is no http(s) URL is usage.
	c.prompt = func() (string, error) { return rootPassword, nil }
	host := strings.TrimPrefix(s.URL(), "http://")
	c.expect(exitOK, "logged in to "+s.URL()+" as root", "login", "--url", host+"/", "--login", "root")
	for _, bad := range []string{"ftp://example.org", "http://", "http://x/?a=b", "http://[::1"} {
		c.expect(exitUsage, "is not a server URL", "group", "list", "--url", bad)
	}
	c.must("group", "list", "--url", host)

	// Another server than the session's: said, and the token is not sent.
	c.expect(exitRefused, "you are logged in to "+s.URL()+", not http://127.0.0.1:1", "whoami", "--url", "127.0.0.1:1")

	// A token the server does not know: session_not_found, without the token.
	const token = "bogus-token-0123456789abcdef"
	c.env["GROUPCTL_TOKEN"] = token
	for _, args := range [][]string{{"whoami"}, {"whoami", "--json"}, {"group", "list", "--json"}} {
		r = c.expect(exitRefused, "error.user.session_not_found", args...)
		if strings.Contains(r.stdout+r.stderr, token) {
			t.Fatalf("groupctl %v printed the token:\n%s", args, r.stderr)
		}
	}
	if !strings.Contains(r.stderr, "the session has ended or expired") {
		t.Fatalf("session_not_found in words: %s", r.stderr)
	}
}
