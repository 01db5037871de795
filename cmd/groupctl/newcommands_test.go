package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestMembersACLEventsOutput: members add with an unknown user adds the
// others; a user's groups; ACL grant, show and revoke; the audit trail
// newest first with filters; -o yaml|wide and --no-headers.
func TestMembersACLEventsOutput(t *testing.T) {
	s := startServer(t)
	c := loggedIn(t, s)
	c.must("group", "create", "--name", "staff", "--reference", "g-staff")
	c.must("group", "create", "--name", "ops")
	c.must("user", "create", "--login", "alice")
	c.must("user", "create", "--login", "bob")

	r := c.expect(exitRefused, "1 of 3 users not found; the others were added (error.user.user_not_found)",
		"members", "add", "staff", "alice", "nosuch", "bob")
	if !strings.Contains(r.stdout, "alice: added\nnosuch: not_found\nbob: added\n") {
		t.Fatalf("partial add:\n%s", r.stdout)
	}
	if m := c.must("members", "list", "staff", "--no-headers").stdout; strings.Contains(m, "LOGIN") ||
		!strings.Contains(m, "alice") || !strings.Contains(m, "bob") {
		t.Fatalf("members after a partial add:\n%s", m)
	}
	c.must("members", "add", "ops", "alice")
	r = c.must("user", "groups", "alice")
	if !strings.Contains(r.stdout, "staff") || !strings.Contains(r.stdout, "ops") {
		t.Fatalf("user groups:\n%s", r.stdout)
	}
	if r = c.must("user", "groups", "bob", "-o", "json"); strings.Contains(r.stdout, `"ops"`) {
		t.Fatalf("bob is not in ops:\n%s", r.stdout)
	}

	// ACL.
	c.must("acl", "grant", "staff", "user:bob", "bag_write", "link")
	c.must("acl", "grant", "staff", "group:ops", "bag_read")
	r = c.must("acl", "grant", "staff", "user:bob", "link")
	if !strings.Contains(r.stdout, "nothing to change") {
		t.Fatalf("grant again: %s", r.stdout)
	}
	r = c.must("acl", "show", "staff")
	if !strings.Contains(r.stdout, "user:bob") || !strings.Contains(r.stdout, "bag_write,link") ||
		!strings.Contains(r.stdout, "group:ops") {
		t.Fatalf("acl show:\n%s", r.stdout)
	}
	c.expect(exitRefused, "error.user.right_not_found", "acl", "grant", "staff", "user:bob", "fly")
	c.expect(exitUsage, "user:USER or group:GROUP expected", "acl", "grant", "staff", "bob", "link")
	c.must("acl", "revoke", "staff", "user:bob", "link")
	c.must("acl", "revoke", "staff", "group:ops")
	r = c.must("acl", "show", "staff", "-o", "json")
	var acl []struct {
		Rights map[string]any `json:"rights"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &acl); err != nil || len(acl) != 1 || len(acl[0].Rights) != 1 ||
		acl[0].Rights["bag_write"] == nil {
		t.Fatalf("acl after revokes: %v %s", err, r.stdout)
	}

	// Events: newest first, filtered.
	r = c.must("events", "--limit", "3", "-o", "json")
	var evs []struct {
		ID     int64  `json:"_id"`
		Type   string `json:"type"`
		Action string `json:"action"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &evs); err != nil || len(evs) != 3 || evs[0].ID <= evs[1].ID ||
		evs[1].ID <= evs[2].ID {
		t.Fatalf("events newest first: %v %s", err, r.stdout)
	}
	r = c.must("events", "--group", "staff", "--action", "add_member", "--limit", "0", "-o", "json")
	if err := json.Unmarshal([]byte(r.stdout), &evs); err != nil || len(evs) == 0 {
		t.Fatalf("events of staff: %v %s", err, r.stdout)
	}
	for _, e := range evs {
		if e.Action != "add_member" || e.Type != "membership" {
			t.Fatalf("filtered events: %+v", evs)
		}
	}
	if r = c.must("events", "--user", "bob", "-o", "wide"); !strings.Contains(r.stdout, "CHANGED") ||
		!strings.Contains(r.stdout, "create") {
		t.Fatalf("events of bob:\n%s", r.stdout)
	}

	// Output formats.
	r = c.must("group", "get", "staff", "-o", "yaml")
	if !strings.Contains(r.stdout, "name: staff") || !strings.Contains(r.stdout, "reference: g-staff") {
		t.Fatalf("-o yaml:\n%s", r.stdout)
	}
	r = c.must("group", "list", "-o", "wide", "--type", "easydb")
	if !strings.Contains(r.stdout, "OWNER") || !strings.Contains(r.stdout, "COMMENT") {
		t.Fatalf("-o wide:\n%s", r.stdout)
	}
	r = c.must("user", "list", "--no-headers", "-o", "wide")
	if strings.Contains(r.stdout, "LOGIN") || !strings.Contains(r.stdout, "alice") {
		t.Fatalf("--no-headers:\n%s", r.stdout)
	}
}

// TestContexts: two saved servers, chosen with --context, GROUPCTL_CONTEXT
// or "context use"; a token is never listed.
func TestContexts(t *testing.T) {
	s1, s2 := startServer(t), startServer(t)
	c := newCLI(t)
	c.env["GROUPCTL_PASSWORD"] = rootPassword
	c.must("login", "--url", s1.URL(), "--login", "root")
	c.must("login", "--context", "two", "--url", s2.URL(), "--login", "root")
	c.must("group", "create", "--name", "only-on-two") // "two" is current now
	if out := c.must("group", "list", "--context", "default").stdout; strings.Contains(out, "only-on-two") {
		t.Fatalf("--context default shows the second server's group:\n%s", out)
	}
	c.env["GROUPCTL_CONTEXT"] = "default"
	if out := c.must("group", "list").stdout; strings.Contains(out, "only-on-two") {
		t.Fatalf("GROUPCTL_CONTEXT:\n%s", out)
	}
	delete(c.env, "GROUPCTL_CONTEXT")
	r := c.must("context", "list")
	if !strings.Contains(r.stdout, "default") || !strings.Contains(r.stdout, "two") || !strings.Contains(r.stdout, s2.URL()) {
		t.Fatalf("context list:\n%s", r.stdout)
	}
	c.must("context", "use", "default")
	if out := c.must("group", "list").stdout; strings.Contains(out, "only-on-two") {
		t.Fatalf("after context use default:\n%s", out)
	}
	r = c.must("context", "list", "-o", "json")
	if strings.Contains(r.stdout, "token") {
		t.Fatalf("context list shows tokens:\n%s", r.stdout)
	}
	c.expect(exitUsage, `no context "three"`, "context", "use", "three")
	c.expect(exitRefused, `not logged in (context "three")`, "group", "list", "--context", "three")
	c.must("context", "delete", "two")
	c.expect(exitRefused, "not logged in", "group", "list", "--context", "two")
}
