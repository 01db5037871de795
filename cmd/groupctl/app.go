package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"sort"
	"strings"

	"github.com/groupd/groupd/client"
	"github.com/groupd/groupd/cmd/groupctl/internal/batch"
)

// Exit codes, documented in docs/groupctl.md.
const (
	exitOK           = 0
	exitRefused      = 1 // an easydb error of realm api or user; not logged in
	exitUsage        = 2 // bad arguments or an unreadable file: nothing was sent
	exitServer       = 3 // no answer, a broken answer, or an easydb error of realm server
	exitPartial      = 4 // an import or export ran to its end, but some items failed
	exitPruneRefused = 5 // import --prune refused (no items, or beyond --max-delete): nothing was written
	exitInterrupted  = 130
)

// env is the process's outside world, replaceable in tests.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	stdinTerminal  func() bool
	stderrTerminal func() bool
	readPassword   func() (string, error) // from the terminal, without echo
	http           *http.Client           // nil: the client's default
}

// app is one invocation.
type app struct {
	*env
	ctx  context.Context
	json bool   // --json
	url  string // --url
	// what names the command in error messages ("group create"; "login
	// failed" for login).
	what string
	// tokens are the session tokens this invocation knows of; redact keeps
	// them out of every message.
	tokens []string
}

// usageError is a command line that makes no sense.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// exitError ends the command with a code after its output was written.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

const usageText = `groupctl: the command-line client of groupd

Usage: groupctl COMMAND [flags] [arguments]

Session:
  login --url URL --login NAME   log in (password: prompt, stdin, or GROUPCTL_PASSWORD)
  logout                         end the session
  whoami                         the logged-in user, its groups and system rights

Groups, users, memberships (GROUP is an id, a reference or a name; USER an id, a login or a reference):
  group list|get|create|update|delete
  user list|get|create|update|delete
  members list|add|remove GROUP [USER...]

Batch:
  import FILE      create and update groups and users from JSON, NDJSON or CSV (idempotent)
  export           write the visible groups and users as JSON, NDJSON or CSV

Every command takes --json (machine-readable output) and --url (overrides the saved server).
"groupctl COMMAND -h" lists a command's flags. Exit codes: 0 ok, 1 refused by the server,
2 usage, 3 server unreachable or failed, 4 some items of an import failed, 130 interrupted.
`

func run(ctx context.Context, args []string, e *env) int {
	a := &app{env: e, ctx: ctx}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stdout, usageText)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmds := map[string]func([]string) error{
		"login":   a.cmdLogin,
		"logout":  a.cmdLogout,
		"whoami":  a.cmdWhoami,
		"group":   a.sub("group", map[string]func([]string) error{"list": a.groupList, "get": a.groupGet, "create": a.groupCreate, "update": a.groupUpdate, "delete": a.groupDelete}),
		"groups":  nil,
		"user":    a.sub("user", map[string]func([]string) error{"list": a.userList, "get": a.userGet, "create": a.userCreate, "update": a.userUpdate, "delete": a.userDelete}),
		"users":   nil,
		"members": a.sub("members", map[string]func([]string) error{"list": a.membersList, "add": a.membersAdd, "remove": a.membersRemove}),
		"import":  a.cmdImport,
		"export":  a.cmdExport,
	}
	cmds["groups"], cmds["users"] = cmds["group"], cmds["user"]
	a.what = args[0]
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "groupctl: unknown command %q\n\n%s", args[0], usageText)
		return exitUsage
	}
	return a.exit(cmd(args[1:]))
}

// sub dispatches a command with subcommands.
func (a *app) sub(name string, subs map[string]func([]string) error) func([]string) error {
	return func(args []string) error {
		names := make([]string, 0, len(subs))
		for n := range subs {
			names = append(names, n)
		}
		sort.Strings(names)
		if len(args) == 0 || subs[args[0]] == nil {
			return usagef("usage: groupctl %s %s ...", name, strings.Join(names, "|"))
		}
		a.what = name + " " + args[0]
		return subs[args[0]](args[1:])
	}
}

// exit prints err (in words, with its easydb code after) and returns the
// exit code.
func (a *app) exit(err error) int {
	if err == nil {
		return exitOK
	}
	var (
		ue *usageError
		xe *exitError
		ce *client.Error
		fe *batch.FormatError
		pe *batch.PruneRefusedError
		te *client.TransportError
	)
	switch {
	case errors.As(err, &xe):
		return xe.code
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &pe):
		return a.report(nil, "groupctl.prune_refused", pe.Error(), exitPruneRefused)
	case errors.As(err, &ue):
		return a.report(nil, "groupctl.usage", ue.msg, exitUsage)
	case errors.As(err, &fe):
		return a.report(nil, "groupctl.usage", fe.Msg, exitUsage)
	case errors.Is(err, context.Canceled):
		return a.report(nil, "groupctl.interrupted", "interrupted", exitInterrupted)
	case errors.As(err, &ce):
		msg := errorLine(ce)
		if s := err.Error(); s != ce.Error() {
			// Wrapped ("reading the server's groups: ..."): keep the context.
			msg = strings.TrimSuffix(s, ce.Error()) + msg
		}
		if ce.IsServer() {
			return a.report(ce, ce.Code, msg, exitServer)
		}
		return a.report(ce, ce.Code, msg, exitRefused)
	case errors.As(err, &te):
		return a.report(nil, "groupctl.unreachable", "the server cannot be reached or answered wrongly: "+err.Error(),
			exitServer)
	}
	var pathErr *os.PathError
	if errors.As(err, &pathErr) {
		return a.report(nil, "groupctl.usage", err.Error(), exitUsage)
	}
	return a.report(nil, "groupctl.failed", err.Error(), exitServer)
}

// flags is a command's flag set with the common flags.
func (a *app) flags(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.BoolVar(&a.json, "json", false, "machine-readable output (JSON)")
	fs.StringVar(&a.url, "url", "", "server URL (default: the one saved by login, or GROUPCTL_URL)")
	fs.Usage = func() {
		fmt.Fprintf(a.stderr, "usage: groupctl %s %s\n\nflags:\n", name, usage)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags anywhere among the arguments ("--" ends flags) and
// checks the number of positional arguments (max < 0: no limit).
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
				return nil, err
			}
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
	if len(pos) < min || (max >= 0 && len(pos) > max) {
		fs.Usage()
		return nil, &usageError{fmt.Sprintf("%s: wrong number of arguments", fs.Name())}
	}
	return pos, nil
}

// client returns an API client of the saved (or given) server with the
// saved token; it fails when there is no session.
func (a *app) client() (*client.Client, error) {
	cfg, err := loadConfig(a.env)
	if err != nil {
		return nil, err
	}
	for _, t := range []string{cfg.Token, a.getenv("GROUPCTL_TOKEN")} {
		if t != "" {
			a.tokens = append(a.tokens, t)
		}
	}
	given := firstNonEmpty(a.url, a.getenv("GROUPCTL_URL"))
	url := cfg.URL
	if given != "" {
		if url, err = normalizeURL(given); err != nil {
			return nil, err
		}
	}
	token := firstNonEmpty(a.getenv("GROUPCTL_TOKEN"), cfg.Token)
	if url != cfg.URL && a.getenv("GROUPCTL_TOKEN") == "" {
		// The saved token belongs to the saved server: never sent elsewhere.
		if cfg.Token != "" {
			return nil, &client.Error{Realm: "user", Code: "error.user.not_authenticated",
				Description: fmt.Sprintf(`you are logged in to %s, not %s: run "groupctl login --url %s"`,
					cfg.URL, url, url)}
		}
		token = ""
	}
	if url == "" || token == "" {
		return nil, &client.Error{Realm: "user", Code: "error.user.not_authenticated",
			Description: `not logged in: run "groupctl login --url URL --login NAME"`}
	}
	c := client.New(url, token)
	c.HTTP = a.http
	c.UserAgent = "groupctl"
	return c, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// normalizeURL makes a server address of what was given: without a scheme
// it is http://; anything but an http(s) URL with a host is a usage error.
func normalizeURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := neturl.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" ||
		u.Fragment != "" || u.User != nil {
		return "", usagef("%q is not a server URL (e.g. http://127.0.0.1:8080 or https://groups.example.org)", s)
	}
	return strings.TrimRight(u.String(), "/"), nil
}
