package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/groupd/groupd/client"
)

// tokenCreate creates a personal API token and prints its secret, which
// groupd never shows again.
func (a *app) tokenCreate(args []string) error {
	fs := a.flags("token create", "NAME [--expires 90d|RFC3339] [--read-only] [--rights JSON]")
	expires := fs.String("expires", "", "when the token stops working: a duration (90d, 12h) or an RFC 3339 time (default: never)")
	readOnly := fs.Bool("read-only", false, "the token may only read")
	rightsJSON := fs.String("rights", "", `at most these of your system rights, as JSON (e.g. '{"system.group":{}}'; default: all)`)
	pos, err := a.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	spec := client.APITokenSpec{Name: pos[0], ReadOnly: *readOnly}
	if *expires != "" {
		if spec.Expires, err = parseExpiry(*expires, time.Now()); err != nil {
			return err
		}
	}
	if *rightsJSON != "" {
		if unmarshalErr := json.Unmarshal([]byte(*rightsJSON), &spec.SystemRights); unmarshalErr != nil || spec.SystemRights == nil {
			return usagef(`token create: --rights must be a JSON object of system rights, e.g. '{"system.group":{}}'`)
		}
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	t, err := c.CreateAPIToken(a.ctx, spec)
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(t)
	}
	fmt.Fprintf(a.stderr, "created API token %d %q; its secret follows and is shown only now:\n", t.ID, t.Name)
	fmt.Fprintln(a.stdout, t.Secret)
	return nil
}

// parseExpiry reads --expires: a duration from now (Go's, or whole days
// as "90d") or an RFC 3339 time.
func parseExpiry(s string, now time.Time) (time.Time, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n > 0 {
			return now.Add(time.Duration(n) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, usagef("token create: --expires must be a duration such as 90d or 12h, or an RFC 3339 time")
}

// tokenList lists API tokens (never their secrets).
func (a *app) tokenList(args []string) error {
	fs := a.flags("token list", "[--user USER]")
	user := fs.String("user", "", "another user's tokens (id, login or reference; needs system.user manage_api_tokens)")
	a.outputFlags(fs)
	if _, err := a.parse(fs, args, 0, 0); err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	var userID int64
	if *user != "" {
		u, resolveUserErr := a.resolveUser(c, *user)
		if resolveUserErr != nil {
			return resolveUserErr
		}
		userID = u.User.ID
	}
	tokens, err := c.ListAPITokens(a.ctx, userID)
	if err != nil {
		return err
	}
	if a.structured() {
		return a.printData(tokens)
	}
	t := a.newTable("ID", "NAME", "SCOPE", "CREATED", "EXPIRES", "LAST USED", "FROM")
	for _, tok := range tokens {
		scope := "all"
		if tok.Scope.SystemRights != nil {
			b, _ := json.Marshal(tok.Scope.SystemRights)
			scope = string(b)
		}
		if tok.Scope.ReadOnly {
			scope = "read-only, " + scope
		}
		t.row(strconv.FormatInt(tok.ID, 10), tok.Name, scope, tok.Created, orDash(tok.Expires), orDash(tok.LastUsed),
			orDash(tok.LastUsedAddress))
	}
	return t.flush()
}

func orDash(s *string) string {
	if s == nil {
		return "-"
	}
	return *s
}

// tokenRevoke revokes API tokens by id.
func (a *app) tokenRevoke(args []string) error {
	fs := a.flags("token revoke", "ID...")
	pos, err := a.parse(fs, args, 1, -1)
	if err != nil {
		return err
	}
	ids := make([]int64, len(pos))
	for i, p := range pos {
		if ids[i], err = strconv.ParseInt(p, 10, 64); err != nil || ids[i] <= 0 {
			return usagef("token revoke: %q is no token id (see \"groupctl token list\")", p)
		}
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := c.RevokeAPIToken(a.ctx, id); err != nil {
			return err
		}
		if !a.json {
			fmt.Fprintf(a.stdout, "revoked API token %d\n", id)
		}
	}
	if a.json {
		return a.printJSON(map[string]any{"revoked": ids})
	}
	return nil
}
