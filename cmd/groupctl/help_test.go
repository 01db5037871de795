package main

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files of TestHelpGolden")

// TestHelpGolden captures "-h" of groupctl and of every command in
// testdata/help (go test -run TestHelpGolden -update rewrites them): a
// change of any help text shows in review, and every help exits 0 on
// standard output.
func TestHelpGolden(t *testing.T) {
	c := newCLI(t)
	paths := [][]string{{}}
	for _, cmd := range commandTree() {
		paths = append(paths, []string{cmd.name})
		for _, sc := range cmd.subs {
			paths = append(paths, []string{cmd.name, sc.name})
		}
	}
	seen := map[string]bool{}
	for _, p := range paths {
		r := c.run(append(append([]string{}, p...), "-h")...)
		if r.code != exitOK || r.stderr != "" || r.stdout == "" {
			t.Fatalf("groupctl %v -h: exit %d, stderr %q", p, r.code, r.stderr)
		}
		name := strings.Join(append([]string{"groupctl"}, p...), "_") + ".txt"
		seen[name] = true
		golden := filepath.Join("testdata", "help", name)
		if *updateGolden {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, []byte(r.stdout), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -run TestHelpGolden -update)", err)
		}
		if string(want) != r.stdout {
			t.Errorf("groupctl %v -h differs from %s:\n%s", p, golden, r.stdout)
		}
	}
	// No golden file of a command that is gone.
	files, _ := filepath.Glob(filepath.Join("testdata", "help", "*.txt"))
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s belongs to no command", f)
		}
	}
}

// TestUsageAndCompletion: an unknown flag prints the usage once and the
// error once; a group without a subcommand lists its subcommands; --version;
// the completion scripts name every command and flag and are valid bash.
func TestUsageAndCompletion(t *testing.T) {
	c := newCLI(t)
	r := c.expect(exitUsage, "flag provided but not defined: -bogus", "group", "list", "--bogus")
	if strings.Count(r.stderr, "usage: groupctl group list") != 1 || strings.Count(r.stderr, "-bogus") != 1 {
		t.Fatalf("unknown flag:\n%s", r.stderr)
	}
	r = c.expect(exitUsage, "wrong number of arguments", "group", "get")
	if strings.Count(r.stderr, "usage: groupctl group get") != 1 {
		t.Fatalf("missing argument:\n%s", r.stderr)
	}
	for _, sub := range []string{"group", "user", "members", "acl", "context"} {
		r = c.expect(exitUsage, "commands:", sub)
		if !strings.Contains(r.stderr, "  list") && !strings.Contains(r.stderr, "  show") {
			t.Fatalf("groupctl %s:\n%s", sub, r.stderr)
		}
	}
	c.expect(exitUsage, `unknown command "frob"`, "group", "frob")
	c.expect(exitUsage, "-o \"xml\": table, wide, json or yaml expected", "group", "list", "-o", "xml")
	if r = c.must("--version"); !strings.HasPrefix(r.stdout, "groupctl ") || !strings.Contains(r.stdout, "go1") {
		t.Fatalf("--version: %q", r.stdout)
	}
	c.must("version")

	bash := c.must("completion", "bash").stdout
	for _, want := range []string{"complete -o default -F _groupctl groupctl", "group|groups)", "--max-delete",
		"--keep-memberships", "grant) flags=", "--no-headers"} {
		if !strings.Contains(bash, want) {
			t.Fatalf("bash completion lacks %q", want)
		}
	}
	if _, err := exec.LookPath("bash"); err == nil {
		f := writeFile(t, "completion.bash", bash+`
COMP_WORDS=(groupctl group l); COMP_CWORD=2; _groupctl; echo "${COMPREPLY[@]}"
COMP_WORDS=(groupctl import f.csv --max); COMP_CWORD=3; _groupctl; echo "${COMPREPLY[@]}"
`)
		out, err := exec.CommandContext(context.Background(), "bash", f).CombinedOutput()
		if err != nil || string(out) != "list\n--max-delete\n" {
			t.Fatalf("bash completion: %v\n%s", err, out)
		}
	}
	if z := c.must("completion", "zsh").stdout; !strings.Contains(z, "bashcompinit") {
		t.Fatalf("zsh completion:\n%s", z)
	}
	if f := c.must("completion", "fish").stdout; !strings.Contains(f, "-n '__fish_use_subcommand' -a import") ||
		!strings.Contains(f, "-l prune") {
		t.Fatalf("fish completion:\n%s", f)
	}
	c.expect(exitUsage, "bash, zsh or fish", "completion", "tcsh")
}
