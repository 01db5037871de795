package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/groupd/groupd/cmd/groupctl/internal/batch"
)

// groupCount is the number of groups named "group-*" on the server.
func groupCount(t *testing.T, c *cli) int {
	t.Helper()
	var groups []json.RawMessage
	if err := json.Unmarshal([]byte(c.must("group", "list", "--all", "--json", "--name", "group-").stdout), &groups); err != nil {
		t.Fatal(err)
	}
	return len(groups)
}

// TestImportPruneSafety: --prune refuses a file with no items and
// deletions beyond --max-delete (writing nothing at all, not even the
// file's updates), a users file never prunes groups, and the report names
// every deletion.
func TestImportPruneSafety(t *testing.T) {
	s := startServer(t)
	c := loggedIn(t, s)
	rep := filepath.Join(t.TempDir(), "report.json")
	c.must("import", writeFile(t, "all.csv", groupsCSV(20)))

	// A header-only CSV, an empty JSON array, an empty file: refused, in a
	// dry run too, and nothing is deleted.
	for _, f := range []string{writeFile(t, "empty.csv", "reference,name\n"), writeFile(t, "empty.json", "[]"),
		writeFile(t, "empty.ndjson", "")} {
		c.expect(exitPruneRefused, "the file has no items", "import", f, "--prune")
		c.expect(exitPruneRefused, "the file has no items", "import", f, "--prune", "--dry-run")
	}
	if n := groupCount(t, c); n != 20 {
		t.Fatalf("%d groups after refused prunes, want 20", n)
	}

	// 2 of 20 groups, one of them changed: 18 deletions exceed the default
	// 10% (2): refused before anything is written, and the report names
	// the 18 all the same.
	lines := strings.Split(groupsCSV(20), "\n")
	two := lines[0] + "\n" + strings.Replace(lines[1], "comment, 0", "changed", 1) + "\n" + lines[2] + "\n"
	file := writeFile(t, "two.csv", two)
	before := writes(c)
	r := c.expect(exitPruneRefused, "more than --max-delete 10% allows (2)", "import", file, "--prune", "--report", rep)
	if strings.Count(r.stderr, "NOT DELETED group #") != 18 {
		t.Fatalf("refusal report:\n%s", r.stderr)
	}
	if w := writes(c) - before; w != 0 {
		t.Fatalf("a refused prune sent %d writes", w)
	}
	refused := readReport(t, rep)
	if refused.PruneRefused == "" || refused.Deleted != 0 || len(refused.Deletions) != 18 {
		t.Fatalf("refused report: refused %q, deleted %d, %d deletions named", refused.PruneRefused, refused.Deleted,
			len(refused.Deletions))
	}
	if g := c.must("group", "get", "ldap:g00000").stdout; strings.Contains(g, "changed") {
		t.Fatalf("a refused prune updated a group:\n%s", g)
	}
	// The dry run predicts the refusal, with the same exit code.
	c.expect(exitPruneRefused, "more than --max-delete", "import", file, "--prune", "--dry-run")
	c.expect(exitPruneRefused, "more than --max-delete 17 allows (17)", "import", file, "--prune", "--max-delete", "17")
	c.expect(exitUsage, "--max-delete", "import", file, "--prune", "--max-delete", "ten")
	if n := groupCount(t, c); n != 20 {
		t.Fatalf("%d groups after refused prunes, want 20", n)
	}

	// A users file prunes users only, never the groups it does not hold.
	c.must("import", writeFile(t, "u.csv", "login,reference\nalice,hr:alice\n"), "--prune", "--report", rep)
	if n := groupCount(t, c); n != 20 {
		t.Fatalf("a users file pruned groups: %d left, want 20", n)
	}

	// Allowed (a number, a percentage, --force): the report names every
	// deletion, in JSON and in words.
	r = c.must("import", file, "--prune", "--max-delete", "18", "--report", rep)
	done := readReport(t, rep)
	if done.Deleted != 18 || len(done.Deletions) != 18 || strings.Count(r.stdout, "DELETED group #") != 18 {
		t.Fatalf("deleted %d, named %d:\n%s", done.Deleted, len(done.Deletions), r.stdout)
	}
	var refs []string
	for _, d := range done.Deletions {
		refs = append(refs, d.Reference)
	}
	sort.Strings(refs)
	if refs[0] != "ldap:g00002" || refs[17] != "ldap:g00019" {
		t.Fatalf("deletions %v", refs)
	}
	if n := groupCount(t, c); n != 2 {
		t.Fatalf("%d groups left, want 2", n)
	}
	c.must("import", writeFile(t, "all.csv", groupsCSV(20)))
	c.must("import", file, "--prune", "--max-delete", "90%", "--report", rep)
	c.must("import", writeFile(t, "all.csv", groupsCSV(20)))
	c.must("import", file, "--prune", "--force", "--report", rep)
	if rr := readReport(t, rep); rr.Deleted != 18 {
		t.Fatalf("--force deleted %d, want 18", rr.Deleted)
	}
}

// TestImportReferenceConflict: an item whose name (a user: login) is an
// entry the server keeps under another reference fails as a conflict and
// changes nothing, in a dry run and in a real run, on every run.
func TestImportReferenceConflict(t *testing.T) {
	s := startServer(t)
	c := loggedIn(t, s)
	rep := filepath.Join(t.TempDir(), "report.json")
	c.must("group", "create", "--name", "g00010", "--reference", "ldap:cn=g00010,ou=eng", "--displayname", "en-US=Eng 10")
	c.must("user", "create", "--login", "alice", "--reference", "hr:1", "--first-name", "Alice")

	gfile := writeFile(t, "g.csv", "reference,name,displayname:en-US\nldap:new5,g00010,New 5\nldap:ok,ok,OK\n")
	ufile := writeFile(t, "u.csv", "login,reference,first_name\nALICE,hr:2,Mallory\nbob,hr:3,Bob\n")
	for _, dry := range []bool{true, false, false} {
		args := []string{"import", gfile, "--report", rep}
		if dry {
			args = append(args, "--dry-run")
		}
		r := c.expect(exitPartial, `FAILED line 2 reference="ldap:new5" name="g00010": error.user.integrity_constraint_violation`, args...)
		if !strings.Contains(r.stdout, "existing_reference=ldap:cn=g00010,ou=eng") {
			t.Fatalf("conflict report:\n%s", r.stdout)
		}
		rr := readReport(t, rep)
		if rr.Failed != 1 || rr.Failures[0].Parameters["constraint"] != "group.name" {
			t.Fatalf("report %+v", rr)
		}
		args[1] = ufile
		c.expect(exitPartial, `FAILED line 2 reference="hr:2" name="ALICE": error.user.integrity_constraint_violation (constraint=user.login`, args...)
	}
	g := c.must("group", "get", "g00010", "--json").stdout
	if !strings.Contains(g, `"reference": "ldap:cn=g00010,ou=eng"`) || !strings.Contains(g, `"en-US": "Eng 10"`) ||
		!strings.Contains(g, `"_version": 1`) {
		t.Fatalf("the conflicting group changed:\n%s", g)
	}
	u := c.must("user", "get", "alice").stdout
	if !strings.Contains(u, "hr:1") || !strings.Contains(u, "Alice") || strings.Contains(u, "Mallory") {
		t.Fatalf("the conflicting user changed:\n%s", u)
	}
	// The other lines were written; an item without a reference still
	// matches by name.
	c.must("group", "get", "ldap:ok")
	c.must("user", "get", "bob")
	c.must("import", writeFile(t, "n.csv", "name,comment\ng00010,by name\n"))
	if g := c.must("group", "get", "g00010").stdout; !strings.Contains(g, "by name") {
		t.Fatalf("match by name without a reference:\n%s", g)
	}
}

// TestImportMembershipRemovals: re-importing users names each membership
// it removes; --keep-memberships removes none.
func TestImportMembershipRemovals(t *testing.T) {
	s := startServer(t)
	c := loggedIn(t, s)
	rep := filepath.Join(t.TempDir(), "report.json")
	c.must("import", writeFile(t, "g.csv", "reference,name\nldap:a,a\nldap:b,b\nldap:c,c\n"))
	c.must("import", writeFile(t, "u.csv", "login,groups\nalice,ldap:a\nbob,ldap:a\n"))
	c.must("members", "add", "b", "alice", "bob") // by hand
	file := writeFile(t, "u2.csv", "login,groups\nalice,ldap:a;ldap:c\nbob,ldap:a\n")

	r := c.must("import", file, "--keep-memberships", "--report", rep)
	kr := readReport(t, rep)
	if kr.Memberships.Added != 1 || kr.Memberships.Removed != 0 || len(kr.Memberships.Removals) != 0 {
		t.Fatalf("--keep-memberships: %+v\n%s", kr.Memberships, r.stdout)
	}
	if m := c.must("members", "list", "b").stdout; !strings.Contains(m, "alice") || !strings.Contains(m, "bob") {
		t.Fatalf("--keep-memberships removed a membership:\n%s", m)
	}

	r = c.must("import", file, "--dry-run", "--report", rep)
	if !strings.Contains(r.stdout, `WOULD REMOVE alice from group #`) || readReport(t, rep).Memberships.Removed != 2 {
		t.Fatalf("dry run:\n%s", r.stdout)
	}
	r = c.must("import", file, "--report", rep)
	rr := readReport(t, rep)
	if rr.Memberships.Removed != 2 || len(rr.Memberships.Removals) != 2 {
		t.Fatalf("removals %+v", rr.Memberships)
	}
	for i, login := range []string{"alice", "bob"} {
		m := rr.Memberships.Removals[i]
		if m.Login != login || m.Group != "b" || m.GroupReference != "ldap:b" || m.UserID == 0 {
			t.Fatalf("removal %d: %+v", i, m)
		}
		if want := fmt.Sprintf(`REMOVED %s from group #%d "b" reference="ldap:b"`, login, m.GroupID); !strings.Contains(r.stdout, want) {
			t.Fatalf("report lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestImportDryRunAgrees: on files with every kind of bad line groupctl
// can know of, --dry-run fails the same lines with the same codes as the
// real run, and counts the same.
func TestImportDryRunAgrees(t *testing.T) {
	s := startServer(t)
	c := loggedIn(t, s)
	c.must("group", "create", "--name", "x", "--reference", "r:x")
	c.must("group", "create", "--name", "y", "--reference", "r:y", "--displayname", "en-US=Why")
	c.must("user", "create", "--login", "alice", "--reference", "hr:alice")

	// Line 7 comes before line 12, which renames another group to y's
	// name: the server blames the second of two items of one request that
	// claim a name, even when that one keeps it (see the report of #21).
	long := strings.Repeat("n", 300)
	nd := strings.Join([]string{
		`{"_basetype":"group","group":{"name":"ok1","reference":"r:ok1"}}`,                   // 1 created
		`{"_basetype":"group","group":{"name":"bt","reference":"r:bt","type":"nonsense"}}`,   // 2 invalid type
		`{"_basetype":"group","group":{"reference":"r:noname","comment":"no name"}}`,         // 3 no name
		`{"_basetype":"group","group":{"name":"` + long + `","reference":"r:long"}}`,         // 4 too long
		`{"_basetype":"group","group":{"name":"ok1","reference":"r:dup"}}`,                   // 5 same name as line 1
		`{"_basetype":"group","group":{"name":"x","reference":"r:other"}}`,                   // 6 name conflict
		`{"_basetype":"group","group":{"reference":"r:y","comment":"new"}}`,                  // 7 updated
		`{"_basetype":"group","group":{"name":"m","reference":"r:m"},"_members":["nosuch"]}`, // 8 unknown member
		`{"_basetype":"group","group":{"name":"z"},"_bogus":1}`,                              // 9 attribute not accepted
		`42`, // 10 not an object
		`{"_basetype":"group","group":{"name":"w","displayname":{"en-US":"Why"}}}`,                            // 11 displayname taken
		`{"_basetype":"group","group":{"name":"y","reference":"r:x"}}`,                                        // 12 r:x renamed to y's name
		`{"_basetype":"user","user":{"login":"u1"},"_emails":[{"email":"not an address"}]}`,                   // 13 bad e-mail
		`{"_basetype":"user","user":{"login":"u2","type":"weird"}}`,                                           // 14 bad user type
		`{"_basetype":"user","user":{"login":"u3"},"_password":""}`,                                           // 15 empty password
		`{"_basetype":"user","user":{"login":"Alice","reference":"hr:other"}}`,                                // 16 login conflict
		`{"_basetype":"user","user":{"login":"u4"},"_groups":[{"group":{"name":"no-such-group"}}]}`,           // 17 unknown group
		`{"_basetype":"user","user":{"login":"u5","reference":"hr:u5"},"_groups":[{"group":{"name":"ok1"}}]}`, // 18 created, in a new group
		`{"_basetype":"user","user":{"login":"u6","reference":"hr:alice"}}`,                                   // 19 alice renamed... to a free login: updated
		`{"_basetype":"user","user":{"login":"u7","frontend_language":"not a culture!"}}`,                     // 20 bad culture
	}, "\n") + "\n"
	csvFile := strings.Join([]string{"reference,name,type", "c:1,c1,easydb", "c:2,c2,easydb,extra", "c:3,c3,custom-",
		"c:4,c4,custom-ok", "c:5,,easydb", "c:6,x,easydb"}, "\n") + "\n"

	files := []struct {
		path                     string
		created, updated, failed int
	}{{writeFile(t, "every.ndjson", nd), 2, 2, 16}, {writeFile(t, "every.csv", csvFile), 2, 0, 4}}
	for _, file := range files {
		f := file.path
		dryPath, realPath := filepath.Join(t.TempDir(), "dry.json"), filepath.Join(t.TempDir(), "real.json")
		before := writes(c)
		c.expect(exitPartial, "FAILED", "import", f, "--dry-run", "--report", dryPath)
		if w := writes(c) - before; w != 0 {
			t.Fatalf("the dry run sent %d writes", w)
		}
		c.expect(exitPartial, "FAILED", "import", f, "--report", realPath)
		dry, real := readReport(t, dryPath), readReport(t, realPath)
		t.Logf("%+v", real.Failures)
		if dry.Counts != real.Counts || dry.Groups != real.Groups || dry.Users != real.Users {
			t.Fatalf("%s: dry run %+v, real run %+v\ndry failures %v\nreal failures %v", filepath.Base(f), dry.Counts,
				real.Counts, failureLines(dry), failureLines(real))
		}
		if d, r := failureLines(dry), failureLines(real); d != r {
			t.Fatalf("%s: failures differ\ndry:  %s\nreal: %s", filepath.Base(f), d, r)
		}
		wantCounts(t, filepath.Base(f), real, file.created, file.updated, 0, file.failed)
	}
}

// failureLines is "line:code" of each failure, in order.
func failureLines(r batch.Report) string {
	var parts []string
	for _, f := range r.Failures {
		parts = append(parts, fmt.Sprintf("%d:%s", f.Line, f.Code))
	}
	return strings.Join(parts, " ")
}
