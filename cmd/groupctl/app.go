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

	context   string // --context
	outFormat string // -o: table, wide, json, yaml
	noHeaders bool   // --no-headers

	usage     func(io.Writer) // the current command's usage
	lastFlags *flag.FlagSet   // the current command's flags (completion reads them)
}

// usageError is a command line that makes no sense.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// exitError ends the command with a code after its output was written.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

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

// client returns an API client of the saved (or given) server with the
// saved token; it fails when there is no session.
func (a *app) client() (*client.Client, error) {
	cfg, ctxName, err := a.loadConfig()
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
			Description: fmt.Sprintf(`not logged in (context %q): run "groupctl login --url URL --login NAME"`, ctxName)}
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
