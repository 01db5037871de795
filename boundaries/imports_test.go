package boundaries

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/groupd/groupd/"

// layers places every package of the repository: a package imports only
// packages of a lower layer (docs/architecture.md draws them). Two packages
// of one layer do not import each other: user and group, or user and
// session (session reaches users through session.Users, which the wiring
// fills with user.Logins).
var layers = map[string]int{
	// the typed easydb error, the wire client and the test-only package
	"errors": 0, "client": 0, "boundaries": 0,
	// leaves: text checks, password hashing, the OpenAPI document
	"storable": 1, "passwords": 1, "openapi": 1,
	// request decoding, the rights vocabulary, PostgreSQL
	"input": 2, "rights": 2, "db": 2,
	// HTTP plumbing (decodes bulk bodies with input), test databases, the ACL entry type
	"web": 3, "db/dbtest": 3, "acl/entry": 3,
	// the decision engine
	"policy": 4,
	// the audit trail
	"audit": 5,
	// ACL entries: decoding, validation, storage
	"acl": 6,
	// the bulk-write kernel shared by groups and users
	"group/bulk": 7,
	// the core resources
	"group": 8, "user": 8,
	// grouped objects (a group's delete ungroups them); the property tests' random worlds
	"object": 9, "group/grouptest": 9,
	// tokens to principals
	"session": 10,
	// the surfaces
	"console": 11, "kanboard": 11, "noko": 11, "navixy": 11,
	// the wiring
	"server": 12,
	// the commands
	"cmd/groupctl/internal/batch": 13,
	"cmd/groupd":                  14, "cmd/groupctl": 14, "cmd/groupbench": 14,
}

// unreachable lists, for a package, packages it must not import even
// indirectly: what it depends on stays below the line that these draw.
var unreachable = map[string][]string{
	// The decision engine reaches no request decoding: it reads ACL entries
	// (acl/entry) and the rights vocabulary, never how a request spells them.
	"policy": {"acl", "input", "web", "db"},
	// The typed error knows nothing of drivers or sockets: which failure is
	// the database's is decided where requests are answered (web).
	"errors": {"std:net", "std:syscall", "std:database/sql", "std:database/sql/driver"},
	// The password hashing serves user and session alike.
	"passwords": {"user", "session", "db"},
	// The core does not know which surface called it.
	"group":  {"session", "console", "kanboard", "noko", "navixy", "server"},
	"user":   {"session", "console", "kanboard", "noko", "navixy", "server"},
	"object": {"session", "console", "kanboard", "noko", "navixy", "server"},
}

// packageImports maps each package directory under root (relative, with
// non-test Go files) to its imports: the repository's without the module
// prefix, others (the standard library, modules) as "std:" and their path.
func packageImports(root string) (map[string][]string, error) {
	imports := map[string][]string{}
	fset := token.NewFileSet()
	err := walkGoSources(root, nil, func(pkg, path string) error {
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		if _, ok := imports[pkg]; !ok {
			imports[pkg] = []string{}
		}
		for _, spec := range f.Imports {
			p, _ := strconv.Unquote(spec.Path.Value)
			if strings.HasPrefix(p, module) {
				p = strings.TrimPrefix(p, module)
			} else {
				p = "std:" + p // the standard library or a module: not one of ours, whatever its name
			}
			if !slices.Contains(imports[pkg], p) {
				imports[pkg] = append(imports[pkg], p)
			}
		}
		return nil
	})
	return imports, err
}

// reach is every package pkg imports, directly or not, that the walk can
// see: the repository's packages and the standard library's names.
func reach(imports map[string][]string, pkg string) map[string]bool {
	seen := map[string]bool{}
	var visit func(string)
	visit = func(p string) {
		for _, q := range imports[p] {
			if !seen[q] {
				seen[q] = true
				visit(q)
			}
		}
	}
	visit(pkg)
	return seen
}

// layerViolations are the imports under root that break layers or
// unreachable.
func layerViolations(root string) ([]string, error) {
	imports, err := packageImports(root)
	if err != nil {
		return nil, err
	}
	var bad []string
	for pkg, deps := range imports {
		layer, placed := layers[pkg]
		if !placed {
			bad = append(bad, "package "+pkg+" has no layer in layers")
			continue
		}
		for _, dep := range deps {
			depLayer, placed := layers[dep]
			if strings.HasPrefix(dep, "std:") || !placed {
				continue // not ours, or reported as a package without a layer
			}
			if depLayer >= layer {
				bad = append(bad, "package "+pkg+" (layer "+strconv.Itoa(layer)+") imports "+dep+
					" (layer "+strconv.Itoa(depLayer)+")")
			}
		}
	}
	for pkg, never := range unreachable {
		if _, ok := imports[pkg]; !ok {
			continue // not there yet (object)
		}
		reached := reach(imports, pkg)
		for _, n := range never {
			if reached[n] {
				bad = append(bad, "package "+pkg+" reaches "+n)
			}
		}
	}
	slices.Sort(bad)
	return bad, nil
}

// TestImportsGoDown: no package imports one of its own or a higher layer,
// and none reaches what unreachable forbids it.
func TestImportsGoDown(t *testing.T) {
	bad, err := layerViolations(repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Error(b)
	}
}

// TestDBBuildsNoEasydbError: package db uses only the standard library's
// part of package errors (Errorf, New, Is, As, Join, Unwrap); which easydb
// error a database failure becomes is decided above it.
func TestDBBuildsNoEasydbError(t *testing.T) {
	allowed := []string{"Errorf", "New", "Is", "As", "Join", "Unwrap"}
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "db", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range selectorsOf(f, "errors") {
			if !slices.Contains(allowed, name.Name) {
				t.Errorf("%s: db uses errors.%s", fset.Position(name.Pos()), name.Name)
			}
		}
	}
}

// selectorsOf are the names f selects from the package imported as pkg
// (pkg.Name).
func selectorsOf(f *ast.File, pkg string) []*ast.Ident {
	var names []*ast.Ident
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == pkg {
				names = append(names, sel.Sel)
			}
		}
		return true
	})
	return names
}

// TestLayerCheckCatchesViolations: the check is not blind. In a small tree
// where policy imports acl, errors imports net, rights imports user, and a
// new package has no layer, it reports exactly these.
func TestLayerCheckCatchesViolations(t *testing.T) {
	tmp := t.TempDir()
	tree := map[string]string{
		"errors/e.go":      "package errors\n\nimport _ \"net\"\n",
		"input/i.go":       "package input\n\nimport _ \"" + module + "errors\"\n",
		"acl/a.go":         "package acl\n\nimport _ \"" + module + "input\"\n",
		"rights/r.go":      "package rights\n\nimport _ \"" + module + "user\"\n",
		"user/u.go":        "package user\n\nimport _ \"" + module + "errors\"\n",
		"policy/p.go":      "package policy\n\nimport _ \"" + module + "acl\"\n",
		"gadget/g.go":      "package gadget\n",
		"policy/p_test.go": "package policy\n\nimport _ \"" + module + "server\"\n", // tests may
	}
	for name, src := range tree {
		if err := os.MkdirAll(filepath.Join(tmp, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tmp, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bad, err := layerViolations(tmp)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"package errors reaches std:net",
		"package gadget has no layer in layers",
		"package policy (layer 4) imports acl (layer 6)",
		"package policy reaches acl",
		"package policy reaches input",
		"package rights (layer 2) imports user (layer 8)",
	}
	if !slices.Equal(bad, want) {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(bad, "\n"), strings.Join(want, "\n"))
	}
}
