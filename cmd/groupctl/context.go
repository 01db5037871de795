package main

import (
	"fmt"
	"sort"
)

func (a *app) contextList(args []string) error {
	fs := a.flags("context list", "")
	a.outputFlags(fs)
	if _, err := a.parse(fs, args, 0, 0); err != nil {
		return err
	}
	f, _, err := readConfigFile(a.env)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(f.Contexts))
	for n := range f.Contexts {
		names = append(names, n)
	}
	sort.Strings(names)
	type row struct {
		Name     string `json:"name"`
		URL      string `json:"url"`
		Login    string `json:"login,omitempty"`
		Current  bool   `json:"current"`
		LoggedIn bool   `json:"logged_in"`
	}
	rows := make([]row, 0, len(names))
	for _, n := range names {
		c := f.Contexts[n]
		rows = append(rows, row{n, c.URL, c.Login, n == f.Current, c.Token != ""}) // the token itself is never shown
	}
	if a.structured() {
		return a.printData(rows)
	}
	t := a.newTable("CURRENT", "NAME", "URL", "LOGIN", "LOGGED IN")
	for _, r := range rows {
		cur := ""
		if r.Current {
			cur = "*"
		}
		t.row(cur, r.Name, r.URL, r.Login, fmt.Sprint(r.LoggedIn))
	}
	return t.flush()
}

// namedContext parses "context use|delete NAME": the config file and the
// name of a context it holds.
func (a *app) namedContext(cmd string, args []string) (*configFile, string, error) {
	fs := a.flags("context "+cmd, "NAME")
	pos, err := a.parse(fs, args, 1, 1)
	if err != nil {
		return nil, "", err
	}
	f, _, err := readConfigFile(a.env)
	if err != nil {
		return nil, "", err
	}
	if f.Contexts[pos[0]] == nil {
		return nil, "", usagef("context %s: no context %q (groupctl context list; groupctl login --context %s --url URL)",
			cmd, pos[0], pos[0])
	}
	return f, pos[0], nil
}

func (a *app) contextUse(args []string) error {
	f, name, err := a.namedContext("use", args)
	if err != nil {
		return err
	}
	f.Current = name
	if err := f.write(a.env); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "current context: %s (%s)\n", name, f.Contexts[name].URL)
	return nil
}

func (a *app) contextDelete(args []string) error {
	f, name, err := a.namedContext("delete", args)
	if err != nil {
		return err
	}
	delete(f.Contexts, name)
	if f.Current == name {
		f.Current = ""
	}
	if err := f.write(a.env); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "deleted context %s (its session stays valid on the server until it expires; "+
		"\"groupctl logout\" first ends it)\n", name)
	return nil
}
