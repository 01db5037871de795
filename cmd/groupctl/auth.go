package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/groupd/groupd/client"
)

func (a *app) cmdLogin(args []string) error {
	fs := a.flags("login", "--url URL --login NAME | --url URL --token")
	login := fs.String("login", "", "login name (default: the last one used)")
	useToken := fs.Bool("token", false, "log in with an API token (GROUPCTL_TOKEN, the prompt, or the first line of standard input) instead of a password")
	if _, err := a.parse(fs, args, 0, 0); err != nil {
		return err
	}
	cfg, ctxName, err := a.loadConfig()
	if err != nil {
		return err
	}
	url := cfg.URL
	if given := firstNonEmpty(a.url, a.getenv("GROUPCTL_URL")); given != "" {
		if url, err = normalizeURL(given); err != nil {
			return err
		}
	}
	if url == "" {
		return usagef("login: --url is required (e.g. --url http://127.0.0.1:8080)")
	}
	if *useToken {
		if *login != "" {
			return usagef("login: --login or --token, not both")
		}
		return a.loginWithToken(url, ctxName)
	}
	if *login == "" && url == cfg.URL {
		*login = cfg.Login
	}
	if *login == "" {
		return usagef("login: --login is required")
	}
	// The server is asked for a session first, so that a wrong URL or a
	// server that is down is said before anyone types a password.
	c := client.New(url, "")
	c.HTTP, c.UserAgent = a.http, "groupctl"
	if _, newSessionErr := c.NewSession(a.ctx); newSessionErr != nil {
		return newSessionErr
	}
	a.tokens = append(a.tokens, c.Token)
	password, err := a.password(*login)
	if err != nil {
		return err
	}
	a.what = "login failed"
	s, err := c.Authenticate(a.ctx, *login, password)
	if err != nil {
		return err
	}
	next := &config{URL: url, Token: c.Token, Login: *login}
	if s.User != nil && s.User.User != nil {
		next.UserID = s.User.User.ID
	}
	if err := a.saveConfig(ctxName, next, makeCurrent); err != nil {
		return fmt.Errorf("logged in, but the token could not be saved: %w", err)
	}
	if a.json {
		return a.printJSON(s)
	}
	fmt.Fprintf(a.stdout, "logged in to %s as %s (user %d, context %s)\n", url, *login, next.UserID, ctxName)
	return nil
}

// password is GROUPCTL_PASSWORD, else typed at the terminal without echo,
// else the first line of standard input. An empty password is refused here:
// it cannot be right, and the server would count it as a failed login.
func (a *app) password(login string) (string, error) {
	return a.secret("GROUPCTL_PASSWORD", "password for "+login, "password")
}

// secret is environment variable envName, else typed at the terminal
// without echo after prompt, else the first line of standard input; what
// names it in the refusal of an empty one.
func (a *app) secret(envName, prompt, what string) (string, error) {
	if p := a.getenv(envName); p != "" {
		return p, nil
	}
	if a.stdinTerminal != nil && a.stdinTerminal() && a.readPassword != nil {
		fmt.Fprintf(a.stderr, "%s: ", prompt)
		p, err := a.readPassword()
		fmt.Fprintln(a.stderr)
		if err != nil {
			return "", err
		}
		if p == "" {
			return "", usagef("login: empty %s", what)
		}
		return p, nil
	}
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usagef("login: no %s: type it at the prompt, pipe it on standard input, or set %s", what, envName)
	}
	return line, nil
}

// loginWithToken saves an API token (GROUPCTL_TOKEN, the prompt or standard
// input) as the credential of context ctxName at url, once the server has
// said whose it is. The token is not a session: logout forgets it here but
// does not revoke it ("groupctl token revoke" does).
func (a *app) loginWithToken(url, ctxName string) error {
	token, err := a.secret("GROUPCTL_TOKEN", "API token", "API token")
	if err != nil {
		return err
	}
	a.tokens = append(a.tokens, token)
	c := client.New(url, token)
	c.HTTP, c.UserAgent = a.http, "groupctl"
	a.what = "login failed"
	s, err := c.Session(a.ctx)
	if err != nil {
		return err
	}
	if s.User == nil || s.User.User == nil {
		return &client.Error{Realm: "user", Code: "error.user.not_authenticated",
			Description: "the token is no API token of a user: create one with \"groupctl token create\""}
	}
	next := &config{URL: url, Token: token, UserID: s.User.User.ID}
	if s.User.User.Login != nil {
		next.Login = *s.User.User.Login
	}
	if err := a.saveConfig(ctxName, next, makeCurrent); err != nil {
		return fmt.Errorf("logged in, but the token could not be saved: %w", err)
	}
	if a.json {
		return a.printJSON(s)
	}
	fmt.Fprintf(a.stdout, "logged in to %s as %s with an API token (user %d, context %s)\n", url,
		s.User.Label(), next.UserID, ctxName)
	return nil
}

func (a *app) cmdLogout(args []string) error {
	fs := a.flags("logout", "")
	if _, err := a.parse(fs, args, 0, 0); err != nil {
		return err
	}
	cfg, ctxName, err := a.loadConfig()
	if err != nil {
		return err
	}
	if cfg.Token == "" {
		fmt.Fprintln(a.stdout, "not logged in")
		return nil
	}
	a.tokens = append(a.tokens, cfg.Token)
	c := client.New(cfg.URL, cfg.Token) // the token is only ever sent to its own server
	c.HTTP, c.UserAgent = a.http, "groupctl"
	err = c.Deauthenticate(a.ctx)
	if code := client.CodeOf(err); code == "error.user.session_not_found" || code == "error.user.not_authenticated" {
		err = nil // gone already: logged out all the same
	}
	cfg.Token, cfg.UserID = "", 0
	if serr := a.saveConfig(ctxName, cfg, keepCurrent); serr != nil {
		return serr
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, "logged out")
	return nil
}

func (a *app) cmdWhoami(args []string) error {
	fs := a.flags("whoami", "")
	if _, err := a.parse(fs, args, 0, 0); err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	s, err := c.Session(a.ctx)
	if err != nil {
		return err
	}
	if s.User == nil || s.User.User == nil {
		return &client.Error{Realm: "user", Code: "error.user.not_authenticated",
			Description: `the session is not logged in: run "groupctl login"`}
	}
	if a.json {
		return a.printJSON(s)
	}
	groups := make([]string, len(s.Groups))
	for i, g := range s.Groups {
		groups[i] = g.Label()
	}
	rights := string(s.SystemRights)
	if rights == "" {
		rights = "{}"
	}
	t := newKV(a.stdout)
	t.row("login", s.User.Label())
	t.row("user id", fmt.Sprint(s.User.User.ID))
	t.row("server", c.BaseURL+" ("+s.Instance.Name+" "+s.Instance.ServerVersion+")")
	t.row("groups", strings.Join(groups, ", "))
	t.row("system rights", compactJSON(rights))
	return t.flush()
}

func compactJSON(s string) string {
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}
