package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/groupd/groupd/cmd/groupctl/internal/batch"
)

// bigN is the size of the large import: 20,000 items. Under the race
// detector, which slows the server's user API about tenfold, the same test
// runs the same steps on 2,000 items, so that every code path is still
// checked for races within the test timeout; `make test` then runs
// TestImport20000 again without -race at the full 20,000.
var bigN = 20000

func init() {
	if raceEnabled {
		bigN = 2000
	}
}

// groupsCSV is n groups as CSV; line i+2 is group i.
func groupsCSV(n int) string {
	var b strings.Builder
	b.WriteString("reference,name,displayname:en-US,displayname:de-DE,comment,type\n")
	for i := 0; i < n; i++ {
		typ := "easydb"
		if i%10 == 0 {
			typ = "custom-dept"
		}
		fmt.Fprintf(&b, "ldap:g%05d,group-%05d,Group %d,Gruppe %d,\"comment, %d\",%s\n", i, i, i, i, i, typ)
	}
	return b.String()
}

// usersCSV is n users as CSV, user i in groups i%groups and (i+1)%groups.
func usersCSV(n, groups int) string {
	var b strings.Builder
	b.WriteString("login,first_name,last_name,email,reference,groups\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "user%05d,First%d,Last%d,user%05d@example.org,hr:%d,ldap:g%05d;group-%05d\n", i, i, i, i, i,
			i%groups, (i+1)%groups)
	}
	return b.String()
}

func readReport(t *testing.T, path string) batch.Report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep batch.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("report %s: %v", b, err)
	}
	return rep
}

func wantCounts(t *testing.T, what string, rep batch.Report, created, updated, unchanged, failed int) {
	t.Helper()
	if rep.Created != created || rep.Updated != updated || rep.Unchanged != unchanged || rep.Failed != failed {
		t.Fatalf("%s: created %d updated %d unchanged %d failed %d, want %d %d %d %d (failures: %+v)", what,
			rep.Created, rep.Updated, rep.Unchanged, rep.Failed, created, updated, unchanged, failed,
			first(rep.Failures, 5))
	}
}

func first(fs []batch.Failure, n int) []batch.Failure {
	if len(fs) > n {
		return fs[:n]
	}
	return fs
}

func writes(c *cli) int64 {
	return c.checks.count("POST /api/v1/group") + c.checks.count("PUT /api/v1/group") +
		c.checks.count("POST /api/v1/user") + c.checks.count("PUT /api/v1/user")
}

// TestImport20000 imports 20,000 groups and 20,000 users with 40,000
// memberships from CSV, runs it again with zero changes, then exports
// everything as JSON and imports that into a second, empty server, twice.
func TestImport20000(t *testing.T) {
	s := startServer(t)
	c := loggedIn(t, s)
	c.checks.maxCheck = 64 << 10 // the large bulk bodies are checked by the smaller tests
	dir := t.TempDir()
	gfile := writeFile(t, "groups.csv", groupsCSV(bigN))
	ufile := writeFile(t, "users.csv", usersCSV(bigN, bigN))
	rep := filepath.Join(dir, "report.json")

	start := time.Now()
	c.must("import", gfile, "--report", rep)
	wantCounts(t, "groups, first run", readReport(t, rep), bigN, 0, 0, 0)
	t.Logf("import %d groups (CSV): %v", bigN, time.Since(start))

	start = time.Now()
	c.must("import", ufile, "--report", rep)
	r := readReport(t, rep)
	wantCounts(t, "users, first run", r, bigN, 0, 0, 0)
	if r.Memberships.Added != 2*bigN {
		t.Fatalf("memberships added %d, want %d", r.Memberships.Added, 2*bigN)
	}
	t.Logf("import %d users with %d memberships (CSV): %v", bigN, 2*bigN, time.Since(start))

	before := writes(c)
	start = time.Now()
	c.must("import", gfile, "--report", rep)
	wantCounts(t, "groups, second run", readReport(t, rep), 0, 0, bigN, 0)
	c.must("import", ufile, "--report", rep)
	wantCounts(t, "users, second run", readReport(t, rep), 0, 0, bigN, 0)
	if w := writes(c) - before; w != 0 {
		t.Fatalf("second run sent %d bulk writes, want 0", w)
	}
	t.Logf("second run of both files (no changes): %v", time.Since(start))

	// Export -> import into an empty server reproduces groups, users and
	// memberships: a second import changes nothing, and both servers
	// export the same file.
	export := filepath.Join(dir, "export.json")
	start = time.Now()
	c.must("export", "-o", export)
	t.Logf("export %d groups and %d users (JSON): %v", bigN, bigN, time.Since(start))

	s2 := startServer(t)
	c2 := loggedIn(t, s2)
	c2.checks.maxCheck = 64 << 10
	start = time.Now()
	c2.must("import", export, "--report", rep)
	r = readReport(t, rep)
	wantCounts(t, "JSON into an empty server", r, 2*bigN, 0, 0, 0)
	if r.Memberships.Added != 2*bigN {
		t.Fatalf("memberships added %d, want %d", r.Memberships.Added, 2*bigN)
	}
	t.Logf("import %d groups and %d users (JSON) into an empty server: %v", bigN, bigN, time.Since(start))
	c2.must("import", export, "--report", rep)
	wantCounts(t, "JSON, second run", readReport(t, rep), 0, 0, 2*bigN, 0)

	export2 := filepath.Join(dir, "export2.json")
	c2.must("export", "-o", export2)
	if a, b := normalizedExport(t, export), normalizedExport(t, export2); a != b {
		t.Fatalf("the second server's export differs from the first's")
	}
}

// normalizedExport is an export without what differs between servers by
// nature: ids (and so the order of items and of users' groups), versions,
// timestamps, owners.
func normalizedExport(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var items []map[string]any
	if err := json.Unmarshal(b, &items); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, it := range items {
		delete(it, "_owner")
		for _, k := range []string{"group", "user"} {
			if body, ok := it[k].(map[string]any); ok {
				for _, f := range []string{"_id", "_version", "created_timestamp", "last_updated_timestamp"} {
					delete(body, f)
				}
			}
		}
		if gs, ok := it["_groups"].([]any); ok {
			names := make([]string, 0, len(gs))
			for _, g := range gs {
				names = append(names, fmt.Sprint(g.(map[string]any)["group"].(map[string]any)["reference"]))
			}
			sort.Strings(names)
			it["_groups"] = names
		}
		j, _ := json.Marshal(it)
		lines = append(lines, string(j))
	}
	// Ids, and so the order of the listing, depend on which batch committed
	// first.
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestImportBadLines: a file with exactly 3 bad lines among 3,000 (one the
// CSV reader rejects, two the server refuses in the same batch) gets a report
// naming exactly those lines with their easydb codes; everything else is
// written, and the run exits 4. A second run changes nothing and names the
// same 3.
func TestImportBadLines(t *testing.T) {
	s := startServer(t)
	c := loggedIn(t, s)
	lines := strings.Split(strings.TrimSuffix(groupsCSV(3000), "\n"), "\n")
	// lines[0] is the header, line numbers are index + 1.
	lines[500] = "ldap:bad1,too,many,fields,here,easydb,extra"                // line 501
	lines[1100] = "ldap:bad2,bad-type,Bad 2,Schlecht 2,,nonsense"             // line 1101
	lines[1600] = "ldap:bad3," + strings.Repeat("x", 300) + ",Bad 3,,,easydb" // line 1601
	file := writeFile(t, "bad.csv", strings.Join(lines, "\n")+"\n")
	rep := filepath.Join(t.TempDir(), "report.json")

	want := map[int]string{501: "error.api.invalid_content", 1101: "error.api.invalid_value",
		1601: "error.api.invalid_value"}
	check := func(r batch.Report, created, unchanged int) {
		t.Helper()
		wantCounts(t, "bad lines", r, created, 0, unchanged, 3)
		if len(r.Failures) != 3 {
			t.Fatalf("failures %+v", r.Failures)
		}
		for _, f := range r.Failures {
			if want[f.Line] != f.Code {
				t.Fatalf("failure %+v, want lines and codes %v", f, want)
			}
		}
		if r.Failures[1].Reference != "ldap:bad2" || r.Failures[2].Parameters["attribute"] != "group.name" {
			t.Fatalf("failures %+v", r.Failures)
		}
	}
	res := c.expect(exitPartial, "FAILED line 1101 reference=\"ldap:bad2\"", "import", file, "--report", rep)
	if !strings.Contains(res.stdout, "FAILED line 501") || !strings.Contains(res.stdout, "FAILED line 1601") ||
		!strings.Contains(res.stdout, "error.api.invalid_value (attribute=group.type") {
		t.Fatalf("report text:\n%s", res.stdout)
	}
	check(readReport(t, rep), 2997, 0)

	// --prune is refused its deletes when a line could not be read.
	c.expect(exitPartial, "prune skipped", "import", file, "--prune", "--report", rep)
	check(readReport(t, rep), 0, 2997)
}

// TestImportDryRunPruneMembers: --dry-run writes nothing; NDJSON and JSON
// items; a members column sets memberships exactly; --prune deletes only
// groups with a reference absent from the file; Ctrl-C (a cancelled
// context) and a rerun finish the job without duplicates.
func TestImportDryRunPruneMembers(t *testing.T) {
	s := startServer(t)
	c := loggedIn(t, s)
	c.must("user", "create", "--login", "alice")
	c.must("user", "create", "--login", "bob")
	c.must("group", "create", "--name", "keep-me") // no reference: never pruned
	c.must("group", "create", "--name", "old", "--reference", "ldap:old")

	csv := "reference,name,displayname:en-US,members\n" +
		"ldap:a,a,Group A,alice;bob\n" +
		"ldap:b,b,Group B,bob\n"
	file := writeFile(t, "g.csv", csv)
	rep := filepath.Join(t.TempDir(), "report.json")

	r := c.must("import", file, "--dry-run", "--prune", "--report", rep)
	for _, want := range []string{`create group reference="ldap:a" name="a" (line 2): name, reference, displayname`,
		`delete group #`, `reference="ldap:old"`, "dry run: nothing written"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("dry run lacks %q:\n%s", want, r.stdout)
		}
	}
	dr := readReport(t, rep)
	if !dr.DryRun || dr.Created != 2 || dr.Deleted != 1 || dr.Memberships.Added != 3 {
		t.Fatalf("dry-run report %+v", dr)
	}
	if out := c.must("group", "list").stdout; strings.Contains(out, "Group A") || !strings.Contains(out, "ldap:old") {
		t.Fatalf("the dry run wrote:\n%s", out)
	}

	c.must("import", file, "--prune", "--report", rep)
	r2 := readReport(t, rep)
	wantCounts(t, "members", r2, 2, 0, 0, 0)
	if r2.Deleted != 1 || r2.Memberships.Added != 3 {
		t.Fatalf("report %+v", r2)
	}
	out := c.must("group", "list").stdout
	if strings.Contains(out, "ldap:old") || !strings.Contains(out, "keep-me") {
		t.Fatalf("after --prune:\n%s", out)
	}
	if m := c.must("members", "list", "ldap:a").stdout; !strings.Contains(m, "alice") || !strings.Contains(m, "bob") {
		t.Fatalf("members of a:\n%s", m)
	}

	// The members column is the complete list: bob leaves a, alice joins b.
	file2 := writeFile(t, "g2.csv", "reference,name,members\nldap:a,a,alice\nldap:b,b,alice;bob\n")
	c.must("import", file2, "--report", rep)
	r3 := readReport(t, rep)
	wantCounts(t, "members changed", r3, 0, 2, 0, 0)
	if r3.Memberships.Added != 1 || r3.Memberships.Removed != 1 {
		t.Fatalf("memberships %+v", r3.Memberships)
	}
	if m := c.must("members", "list", "ldap:a").stdout; strings.Contains(m, "bob") {
		t.Fatalf("bob is still in a:\n%s", m)
	}

	// NDJSON with a user and a group; the user's groups by reference.
	nd := `{"_basetype":"group","group":{"name":"c","reference":"ldap:c","displayname":{"en-US":"Group C"}}}
{"_basetype":"user","user":{"login":"carol","first_name":"Carol","reference":"hr:carol"},"_groups":[{"group":{"_id":999,"name":"c","reference":"ldap:c"}}],"_emails":[{"email":"carol@example.org","use_for_email":true}]}
{"_basetype":"group","group":{"name":"d"},"_bogus":1}
`
	ndfile := writeFile(t, "items.ndjson", nd)
	res := c.expect(exitPartial, "FAILED line 3: error.api.attribute_not_accepted (attribute=_bogus)",
		"import", ndfile, "--report", rep)
	_ = res
	wantCounts(t, "ndjson", readReport(t, rep), 2, 0, 0, 1)
	if u := c.must("user", "get", "carol").stdout; !strings.Contains(u, "carol@example.org") || !strings.Contains(u, "c") {
		t.Fatalf("carol:\n%s", u)
	}

	// An interrupted import (the context is cancelled once the first batch
	// is written) leaves a partial state; the rerun finishes without
	// duplicates.
	big := writeFile(t, "big.csv", groupsCSV(500))
	cancelled := c.runCancelAfter(1, "import", big, "--batch-size", "100", "--parallel", "1", "--report", rep)
	if cancelled.code != exitInterrupted {
		t.Fatalf("interrupted import: exit %d\n%s\n%s", cancelled.code, cancelled.stdout, cancelled.stderr)
	}
	ir := readReport(t, rep)
	if !ir.Interrupted || ir.Created == 0 || ir.Created == 500 || ir.Pending == 0 {
		t.Fatalf("interrupted report %+v", ir.Counts)
	}
	c.must("import", big, "--report", rep)
	fr := readReport(t, rep)
	wantCounts(t, "after the interruption", fr, 500-ir.Created, 0, ir.Created, 0)
	var groups []json.RawMessage
	if err := json.Unmarshal([]byte(c.must("group", "list", "--all", "--json", "--name", "group-").stdout), &groups); err != nil ||
		len(groups) != 500 {
		t.Fatalf("%d groups named group-*, want 500 (%v)", len(groups), err)
	}
}
