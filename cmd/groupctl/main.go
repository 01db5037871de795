// Command groupctl is the command-line client of groupd: log in, list and
// change groups, users and memberships, and import or export them in bulk
// (JSON in easydb full format, NDJSON, CSV). See docs/groupctl.md.
//
// Exit codes: 0 done; 1 the server refused (the easydb code is printed), or
// not logged in; 2 usage (bad arguments, unreadable file); 3 the server could
// not be reached or failed; 4 an import or export finished but some items
// failed; 130 interrupted.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &env{
		stdin:  os.Stdin,
		stdout: os.Stdout,
		stderr: os.Stderr,
		getenv: os.Getenv,
		stdinTerminal: func() bool {
			return term.IsTerminal(int(os.Stdin.Fd()))
		},
		stderrTerminal: func() bool {
			return term.IsTerminal(int(os.Stderr.Fd()))
		},
		readPassword: func() (string, error) {
			b, err := term.ReadPassword(int(os.Stdin.Fd()))
			return string(b), err
		},
	})
	stop()
	os.Exit(code)
}
