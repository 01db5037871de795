package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"sort"
	"strings"
)

// command is one node of groupctl's command tree: a command that runs, or
// a group of subcommands. The tree is the one source of the dispatch, the
// help texts and the shell completions.
type command struct {
	name    string
	aliases []string
	summary string
	run     func(a *app, args []string) error
	subs    []*command
}

// section groups the top-level commands in the help text.
type section struct {
	title    string
	commands []*command
}

func commandSections() []section {
	return []section{
		{"Session", []*command{
			{name: "login", summary: "log in (password: prompt, standard input, or GROUPCTL_PASSWORD; --token: an API token)", run: (*app).cmdLogin},
			{name: "logout", summary: "end the session", run: (*app).cmdLogout},
			{name: "whoami", summary: "the logged-in user, its groups and system rights", run: (*app).cmdWhoami},
			{name: "token", aliases: []string{"tokens"}, summary: "personal API tokens for jobs: create, list, revoke", subs: []*command{
				{name: "create", summary: "create an API token and print its secret (shown only once)", run: (*app).tokenCreate},
				{name: "list", summary: "list API tokens (never their secrets)", run: (*app).tokenList},
				{name: "revoke", summary: "revoke API tokens", run: (*app).tokenRevoke},
			}},
			{name: "context", summary: "saved servers: list, use, delete", subs: []*command{
				{name: "list", summary: "list the saved servers (contexts)", run: (*app).contextList},
				{name: "use", summary: "make a saved server the current one", run: (*app).contextUse},
				{name: "delete", summary: "forget a saved server and its session", run: (*app).contextDelete},
			}},
		}},
		{"Groups, users, memberships, rights (GROUP: id, reference or name; USER: id, login or reference)", []*command{
			{name: "group", aliases: []string{"groups"}, summary: "list and change groups", subs: []*command{
				{name: "list", summary: "list the visible groups", run: (*app).groupList},
				{name: "get", summary: "show one group", run: (*app).groupGet},
				{name: "create", summary: "create a group", run: (*app).groupCreate},
				{name: "update", summary: "change a group's attributes", run: (*app).groupUpdate},
				{name: "delete", summary: "delete groups", run: (*app).groupDelete},
			}},
			{name: "user", aliases: []string{"users"}, summary: "list and change users", subs: []*command{
				{name: "list", summary: "list the readable users", run: (*app).userList},
				{name: "get", summary: "show one user", run: (*app).userGet},
				{name: "groups", summary: "list a user's groups", run: (*app).userGroups},
				{name: "create", summary: "create a user", run: (*app).userCreate},
				{name: "update", summary: "change a user's attributes", run: (*app).userUpdate},
				{name: "delete", summary: "delete users", run: (*app).userDelete},
			}},
			{name: "members", summary: "a group's static members", subs: []*command{
				{name: "list", summary: "list a group's members", run: (*app).membersList},
				{name: "add", summary: "add users to a group (idempotent)", run: (*app).membersAdd},
				{name: "remove", summary: "remove users from a group (idempotent)", run: (*app).membersRemove},
			}},
			{name: "acl", summary: "a group's access control list", subs: []*command{
				{name: "show", summary: "list a group's ACL entries", run: (*app).aclShow},
				{name: "grant", summary: "grant rights on a group to a user or a group", run: (*app).aclGrant},
				{name: "revoke", summary: "revoke rights on a group from a user or a group", run: (*app).aclRevoke},
			}},
			{name: "events", summary: "the audit trail, newest first", run: (*app).cmdEvents},
		}},
		{"Batch", []*command{
			{name: "import", summary: "create and update groups and users from JSON, NDJSON or CSV (idempotent)", run: (*app).cmdImport},
			{name: "export", summary: "write the visible groups and users as JSON, NDJSON or CSV", run: (*app).cmdExport},
		}},
		{"Other", []*command{
			{name: "completion", summary: "shell completion script: bash, zsh or fish", run: (*app).cmdCompletion},
			{name: "version", summary: "groupctl's version", run: (*app).cmdVersion},
		}},
	}
}

func commandTree() []*command {
	var out []*command
	for _, s := range commandSections() {
		out = append(out, s.commands...)
	}
	return out
}

func findCommand(list []*command, name string) *command {
	for _, c := range list {
		if c.name == name {
			return c
		}
		for _, al := range c.aliases {
			if al == name {
				return c
			}
		}
	}
	return nil
}

func topUsage() string {
	var b strings.Builder
	b.WriteString("groupctl: the command-line client of groupd\n\nUsage: groupctl COMMAND [flags] [arguments]\n")
	for _, s := range commandSections() {
		fmt.Fprintf(&b, "\n%s:\n", s.title)
		for _, c := range s.commands {
			name := c.name
			if len(c.subs) > 0 {
				names := make([]string, len(c.subs))
				for i, sc := range c.subs {
					names[i] = sc.name
				}
				name += " " + strings.Join(names, "|")
			}
			fmt.Fprintf(&b, "  %-42s %s\n", name, c.summary)
		}
	}
	b.WriteString(`
Every command takes --json (errors too become JSON), --url (another server) and --context NAME
(a saved server). "groupctl COMMAND -h" lists a command's flags. Exit codes: 0 ok, 1 refused by
the server, 2 usage, 3 server unreachable or failed, 4 some items of an import failed,
5 import --prune refused, 130 interrupted.
`)
	return b.String()
}

func subUsage(c *command) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: groupctl %s COMMAND [flags] [arguments]\n\n%s\n\ncommands:\n", c.name, c.summary)
	for _, sc := range c.subs {
		fmt.Fprintf(&b, "  %-8s %s\n", sc.name, sc.summary)
	}
	fmt.Fprintf(&b, "\n\"groupctl %s COMMAND -h\" lists a command's flags.\n", c.name)
	return b.String()
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "--help" || arg == "-help" || arg == "help"
}

func run(ctx context.Context, args []string, e *env) int {
	a := &app{env: e, ctx: ctx}
	if len(args) == 0 {
		fmt.Fprint(e.stderr, topUsage())
		return exitUsage
	}
	if isHelp(args[0]) {
		fmt.Fprint(e.stdout, topUsage())
		return exitOK
	}
	if args[0] == "--version" || args[0] == "-version" {
		return a.exit(a.cmdVersion(nil))
	}
	cmd := findCommand(commandTree(), args[0])
	if cmd == nil {
		fmt.Fprintf(e.stderr, "groupctl: unknown command %q\n\n%s", args[0], topUsage())
		return exitUsage
	}
	a.what = cmd.name
	args = args[1:]
	if len(cmd.subs) > 0 {
		switch {
		case len(args) > 0 && isHelp(args[0]):
			fmt.Fprint(e.stdout, subUsage(cmd))
			return exitOK
		case len(args) == 0:
			fmt.Fprint(e.stderr, subUsage(cmd))
			return exitUsage
		}
		sc := findCommand(cmd.subs, args[0])
		if sc == nil {
			fmt.Fprintf(e.stderr, "groupctl: %s: unknown command %q\n\n%s", cmd.name, args[0], subUsage(cmd))
			return exitUsage
		}
		a.what = cmd.name + " " + sc.name
		cmd, args = sc, args[1:]
	}
	return a.exit(cmd.run(a, args))
}

// flags is a command's flag set with the common flags. Its own output is
// discarded: parse prints the usage, once, where it belongs.
func (a *app) flags(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&a.json, "json", false, "machine-readable output (JSON); errors too")
	fs.StringVar(&a.url, "url", "", "server URL (default: the saved one, or GROUPCTL_URL)")
	fs.StringVar(&a.context, "context", "", "saved server to use (default: the current one, or GROUPCTL_CONTEXT)")
	fs.Usage = func() {}
	a.usage = func(w io.Writer) { printUsage(w, fs, name, usage) }
	a.lastFlags = fs
	return fs
}

// printUsage writes a command's synopsis and flags, "--name" style.
func printUsage(w io.Writer, fs *flag.FlagSet, name, usage string) {
	fmt.Fprintf(w, "usage: groupctl %s %s\n\nflags:\n", name, usage)
	type row struct{ left, right string }
	var rows []row
	width := 0
	fs.VisitAll(func(f *flag.Flag) {
		typ, text := flag.UnquoteUsage(f)
		left := "--" + f.Name
		if len(f.Name) == 1 {
			left = "-" + f.Name
		}
		if typ != "" {
			left += " " + typ
		}
		if d := f.DefValue; d != "" && d != "false" && d != "0" {
			text += fmt.Sprintf(" (default %s)", d)
		}
		rows = append(rows, row{left, text})
		width = max(width, len(left))
	})
	sort.SliceStable(rows, func(i, j int) bool {
		return strings.TrimLeft(rows[i].left, "-") < strings.TrimLeft(rows[j].left, "-")
	})
	for _, r := range rows {
		fmt.Fprintf(w, "  %-*s  %s\n", width, r.left, r.right)
	}
}

// parse parses flags anywhere among the arguments ("--" ends flags) and
// checks the number of positional arguments (max < 0: no limit). -h prints
// the usage on standard output; a bad flag or argument count prints it once
// on standard error, followed by what was wrong.
func (a *app) parse(fs *flag.FlagSet, args []string, min, max int) ([]string, error) {
	var rest []string
	for i, arg := range args {
		if arg == "--" {
			rest = args[i+1:]
			args = args[:i]
			break
		}
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				a.usage(a.stdout)
				return nil, err
			}
			a.usage(a.stderr)
			fmt.Fprintln(a.stderr)
			return nil, &usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	pos = append(pos, rest...)
	switch a.outFormat {
	case "", "table", "wide", "json", "yaml":
	default:
		a.usage(a.stderr)
		fmt.Fprintln(a.stderr)
		return nil, usagef("-o %q: table, wide, json or yaml expected", a.outFormat)
	}
	if len(pos) < min || (max >= 0 && len(pos) > max) {
		a.usage(a.stderr)
		fmt.Fprintln(a.stderr)
		return nil, &usageError{"wrong number of arguments"}
	}
	return pos, nil
}

// version is groupctl's module version and VCS revision, as the Go
// toolchain recorded them in the binary.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "groupctl (unknown version)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	out := "groupctl " + v
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		out += " " + rev + modified
	}
	return out + " " + bi.GoVersion
}

func (a *app) cmdVersion(args []string) error {
	fs := a.flags("version", "")
	if _, err := a.parse(fs, args, 0, 0); err != nil {
		return err
	}
	if a.json {
		return a.printJSON(map[string]string{"version": version()})
	}
	fmt.Fprintln(a.stdout, version())
	return nil
}
