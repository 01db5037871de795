package boundaries

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// owners maps every table of db/migrations to the one package that writes
// it. Other packages call the owner's exported functions, or an interface
// that the wiring provides; they may still read the table inside a JOIN
// where one query is the fast way.
var owners = map[string]string{
	"users":              "user",
	"user_emails":        "user",
	"memberships":        "user", // static memberships: /api/v1/user's _groups, /api/v1/group/<id>/members
	"groups":             "group",
	"group_displaynames": "group",
	"names_version":      "group", // bumped by triggers only (migration 0004); group reads it
	"group_acl":          "acl",
	"user_acl":           "acl",
	"sessions":           "session",
	"login_failures":     "session",
	"login_addresses":    "session",
	"server_keys":        "session",
	"preauth_spent":      "session",
	"api_tokens":         "session",
	"events":             "audit",
	"schema_migrations":  "db",
	"objects":            "object",
}

// knownViolations are writes by a package that does not own the table that
// are tolerated for now, each with its reason. TestOnlyOwnersWriteTables
// fails on an entry that no longer occurs, so the list only shrinks.
var knownViolations = []write{}

// notScanned are directories whose code is not part of groupd's serving code
// and may write any table.
var notScanned = map[string]string{
	"cmd/groupbench":  "the load benchmark seeds its database with COPY and measures bare-SQL floors",
	"group/grouptest": "test support: builds the random worlds of the property tests (groups, users, memberships, ACLs) directly",
}

// dynamicTable are the packages allowed to write a table whose name is not in
// the statement's literal, and why.
var dynamicTable = map[string]string{
	"db":  "db.CopyIn writes the table its caller names; the callers' literal names are scanned",
	"acl": "acl.Table holds the name of one of its own tables (group_acl, user_acl: GroupTable, UserTable), both owned by acl",
}

// write is one statement of package Package that writes Table ("" when the
// name is not in the literal), found at Pos.
type write struct {
	Package, Table string
	Pos            string
}

// writeRE finds the statements that write: INSERT INTO, UPDATE, DELETE FROM,
// TRUNCATE [TABLE], COPY, followed by the table's name (lower case, as every
// table of the schema is; an upper-case word after UPDATE is a keyword, as
// in ON CONFLICT ... DO UPDATE SET). An empty name at the end of the
// literal means the name is concatenated from elsewhere.
var writeRE = regexp.MustCompile(`(^|[^A-Za-z_])(INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|COPY)(\s+(?:ONLY\s+)?"?([a-z_][a-z0-9_]*)|\s*$)`)

// lockingUpdate matches the UPDATE of a row lock, which writes nothing:
// FOR UPDATE, FOR NO KEY UPDATE.
var lockingUpdate = regexp.MustCompile(`(FOR|KEY)\s+$`)

// walkGoSources calls fn for each non-test Go file under root, with its
// directory relative to root (slash-separated: the package's path in the
// repository). It skips hidden directories, testdata, node_modules, bin,
// var, and the directories of skip.
func walkGoSources(root string, skip map[string]string, fn func(dir, path string) error) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			name := d.Name()
			if rel != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules" ||
				name == "bin" || name == "var") {
				return filepath.SkipDir
			}
			if _, skipped := skip[rel]; skipped {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		return fn(filepath.ToSlash(filepath.Dir(rel)), path)
	})
}

// scanWrites finds every table write in the non-test Go files under root.
func scanWrites(root string) ([]write, error) {
	var writes []write
	fset := token.NewFileSet()
	err := walkGoSources(root, notScanned, func(pkg, path string) error {
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BasicLit:
				if n.Kind != token.STRING {
					return true
				}
				text, err := strconv.Unquote(n.Value)
				if err != nil {
					return true
				}
				for _, table := range writtenTables(text) {
					writes = append(writes, write{Package: pkg, Table: table, Pos: fset.Position(n.Pos()).String()})
				}
			case *ast.CallExpr:
				// db.CopyIn(ctx, tx, "table", ...): COPY into the named table.
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok || sel.Sel.Name != "CopyIn" || len(n.Args) < 3 {
					return true
				}
				table := ""
				if lit, ok := n.Args[2].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					table, _ = strconv.Unquote(lit.Value)
				}
				writes = append(writes, write{Package: pkg, Table: table, Pos: fset.Position(n.Pos()).String()})
			}
			return true
		})
		return nil
	})
	return writes, err
}

// writtenTables are the tables the SQL text writes; "" for a write whose
// table name is not in text.
func writtenTables(text string) []string {
	var tables []string
	for _, m := range writeRE.FindAllStringSubmatchIndex(text, -1) {
		keyword := text[m[4]:m[5]]
		if keyword == "UPDATE" && lockingUpdate.MatchString(text[:m[4]]) {
			continue
		}
		if m[8] >= 0 {
			tables = append(tables, text[m[8]:m[9]])
		} else if strings.TrimSpace(text[m[4]:]) == keyword {
			tables = append(tables, "") // the name follows in another expression
		}
	}
	return tables
}

// violations are the writes under root by a package that does not own the
// table, minus allowed; and the allowed entries that no longer occur.
func violations(root string, allowed []write) (bad []string, stale []write, err error) {
	writes, err := scanWrites(root)
	if err != nil {
		return nil, nil, err
	}
	used := make([]bool, len(allowed))
	for _, w := range writes {
		owner, known := owners[w.Table]
		switch {
		case w.Table == "":
			if _, ok := dynamicTable[w.Package]; ok {
				continue
			}
			bad = append(bad, fmt.Sprintf("%s: package %s writes a table whose name is not in the statement", w.Pos, w.Package))
		case !known:
			bad = append(bad, fmt.Sprintf("%s: package %s writes table %s, which has no owner in owners", w.Pos, w.Package, w.Table))
		case owner != w.Package:
			if i := slices.IndexFunc(allowed, func(a write) bool { return a.Package == w.Package && a.Table == w.Table }); i >= 0 {
				used[i] = true
				continue
			}
			bad = append(bad, fmt.Sprintf("%s: package %s writes table %s, owned by package %s", w.Pos, w.Package, w.Table, owner))
		}
	}
	for i, a := range allowed {
		if !used[i] {
			stale = append(stale, a)
		}
	}
	return bad, stale, nil
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestOnlyOwnersWriteTables: in the non-test Go sources, every INSERT,
// UPDATE, DELETE, COPY or TRUNCATE of a table is in the table's owner.
func TestOnlyOwnersWriteTables(t *testing.T) {
	bad, stale, err := violations(repoRoot(t), knownViolations)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Error(b)
	}
	for _, s := range stale {
		t.Errorf("knownViolations: package %s no longer writes %s; remove the entry", s.Package, s.Table)
	}
}

// TestEveryTableHasAnOwner: each table that db/migrations creates is in
// owners, and each owner is a package of the repository (or one that is
// coming: object).
func TestEveryTableHasAnOwner(t *testing.T) {
	root := repoRoot(t)
	files, err := filepath.Glob(filepath.Join(root, "db", "migrations", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations found: %v", err)
	}
	create := regexp.MustCompile(`(?i)CREATE\s+(?:UNLOGGED\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"?([a-z_][a-z0-9_]*)`)
	seen := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range create.FindAllStringSubmatch(string(b), -1) {
			seen++
			if _, ok := owners[m[1]]; !ok {
				t.Errorf("%s creates table %s, which has no owner in owners", filepath.Base(f), m[1])
			}
		}
	}
	if seen < 10 {
		t.Fatalf("found only %d tables in the migrations: the pattern is broken", seen)
	}
	for table, owner := range owners {
		if _, err := os.Stat(filepath.Join(root, owner)); err != nil && owner != "object" {
			t.Errorf("table %s: owner %s is no package directory", table, owner)
		}
	}
}

// TestOwnershipScannerCatchesViolations: the scanner is not blind. A copy of
// the real tree with one violation of each kind added fails with exactly
// those, and the writes the scanner must not count (a row lock, ON
// CONFLICT ... DO UPDATE, an owner's own write) stay quiet.
func TestOwnershipScannerCatchesViolations(t *testing.T) {
	root := repoRoot(t)
	tmp := t.TempDir()
	err := walkGoSources(root, nil, func(dir, path string) error {
		rel := filepath.Join(dir, filepath.Base(path))
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(tmp, dir), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(tmp, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	fixture := map[string]string{
		"session/violation.go": "package session\n\nconst q = `UPDATE users SET login_disabled = true WHERE id = $1`\n",
		"audit/violation.go":   "package audit\n\nfunc f() { db.CopyIn(ctx, tx, \"groups\", nil, nil) }\n",
		"web/violation.go":     "package web\n\nvar q = \"DELETE FROM \" + table\n",
		"group/violation.go":   "package group\n\nconst q = `TRUNCATE TABLE \"widgets\"`\n",
		"user/quiet.go": "package user\n\nconst a = `SELECT id FROM groups WHERE id = $1 FOR UPDATE`\n" +
			"const b = `SELECT 1 FROM groups FOR NO KEY UPDATE`\n" +
			"const c = `INSERT INTO memberships (group_id, user_id) VALUES ($1, $2) ON CONFLICT (group_id, user_id) DO UPDATE SET user_id = $2`\n",
	}
	for name, src := range fixture {
		if writeErr := os.WriteFile(filepath.Join(tmp, name), []byte(src), 0o644); writeErr != nil {
			t.Fatal(writeErr)
		}
	}
	bad, stale, err := violations(tmp, knownViolations)
	if err != nil {
		t.Fatal(err)
	}
	if len(stale) != 0 {
		t.Errorf("the copy lost known violations: %v", stale)
	}
	want := []string{
		"session/violation.go:3:11: package session writes table users, owned by package user",
		"audit/violation.go:3:12: package audit writes table groups, owned by package group",
		"web/violation.go:3:9: package web writes a table whose name is not in the statement",
		"group/violation.go:3:11: package group writes table widgets, which has no owner in owners",
	}
	var got []string
	for _, b := range bad {
		got = append(got, strings.TrimPrefix(b, tmp+string(filepath.Separator)))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("violations in the copy:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
