package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/groupd/groupd/client"
)

// words says an easydb error for people. The server sends no description
// with most user-realm errors (as easydb does not), so the words come from
// here; where a description came (api errors, groupctl's own errors) it is
// used as it is.
func words(e *client.Error) string {
	p := e.Parameters
	switch e.Code {
	case "error.user.login_failed":
		return "wrong login or password"
	case "error.user.username_or_password_empty":
		return "the login and the password must not be empty"
	case "error.user.login_disabled", "error.user.login_disabled_from", "error.user.login_disabled_to":
		return "this login is disabled"
	case "error.user.login_blocked":
		return "too many failed logins: blocked until " + p["until"]
	case "error.user.session_not_found", "error.user.session_invalid":
		return `the session has ended or expired: run "groupctl login" again`
	case "error.user.insufficient_rights":
		return fmt.Sprintf("you may not %s this %s (the right %s is missing)", p["operation"], p["type"], p["right"])
	case "error.user.no_system_right":
		r := p["right"]
		if x := p["extra_info"]; x != "" {
			r += "." + x
		}
		return "you lack the system right " + r
	case "error.user.integrity_constraint_violation":
		if e.Description != "" {
			return e.Description
		}
		return p["constraint"] + " is already taken"
	case "error.user.version_mismatch":
		return "changed by someone else meanwhile: run the command again"
	case "error.user.delete_system_group":
		return "system groups cannot be deleted"
	case "error.user.delete_system_user":
		return "system users cannot be deleted"
	case "error.user.user_update_system_group":
		return "system groups' memberships are computed and cannot be changed"
	case "error.user.update_system_user":
		return "system users cannot be changed"
	case "error.user.right_not_found":
		return "no such right: " + p["id"]
	case "error.user.custom_type_required":
		return "a custom-<name> type is required"
	case "error.user.change_owner_on_creation", "error.user.invalid_owner_on_creation":
		return "the owner cannot be set on creation"
	}
	if e.Description != "" {
		return e.Description
	}
	switch e.Code {
	case "error.user.not_authenticated":
		return `not logged in: run "groupctl login --url URL --login NAME"`
	case "error.user.user_not_found":
		return "no such user"
	case "error.user.group_not_found":
		return "no such group"
	}
	if e.IsServer() {
		return "the server failed"
	}
	// An unknown code: its last part, in words.
	return strings.ReplaceAll(e.Code[strings.LastIndex(e.Code, ".")+1:], "_", " ")
}

// secretParams are parameters that carry a secret and are never shown:
// session_not_found names the token that was not found.
var secretParams = map[string]map[string]bool{
	"error.user.session_not_found": {"id": true},
}

// shownParams is e's parameters without secrets and without the position of
// an item in a bulk request (meaningless for one command).
func shownParams(e *client.Error) map[string]string {
	out := map[string]string{}
	for k, v := range e.Parameters {
		if k == "index" || secretParams[e.Code][k] {
			continue
		}
		out[k] = v
	}
	return out
}

// errorLine is "<words> (<code>, k=v, ...)": the code and parameters after
// the words, parameters sorted, a server error's uuid last.
func errorLine(e *client.Error) string {
	var b strings.Builder
	b.WriteString(words(e))
	code := e.Code
	if code == "" {
		code = fmt.Sprintf("HTTP %d", e.Status)
	}
	b.WriteString(" (" + code)
	p := shownParams(e)
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(", " + k + "=" + p[k])
	}
	if e.UUID != "" {
		b.WriteString(", uuid " + e.UUID)
	}
	b.WriteString(")")
	return b.String()
}

// jsonError is an error as --json prints it (on standard error).
type jsonError struct {
	Error struct {
		Realm       string            `json:"realm,omitempty"`
		Code        string            `json:"code"`
		Parameters  map[string]string `json:"parameters,omitempty"`
		Description string            `json:"description,omitempty"`
		UUID        string            `json:"uuid,omitempty"`
		Message     string            `json:"message"`
	} `json:"error"`
	ExitCode int `json:"exit_code"`
}

// redact removes every token groupctl knows of from s: no token ever
// appears in an error message, whatever the error carried.
func (a *app) redact(s string) string {
	for _, t := range a.tokens {
		if len(t) >= 8 {
			s = strings.ReplaceAll(s, t, "[token]")
		}
	}
	return s
}

// report prints a failure: "groupctl: <what>: <message>" for people, or the
// jsonError with --json. code is a groupctl code for failures that are no
// easydb error (usage, unreachable, prune_refused).
func (a *app) report(ce *client.Error, code, message string, exit int) int {
	message = a.redact(message)
	if a.json {
		var je jsonError
		je.ExitCode = exit
		je.Error.Code, je.Error.Message = code, message
		if ce != nil {
			je.Error.Realm, je.Error.Code, je.Error.Description, je.Error.UUID = ce.Realm, ce.Code,
				a.redact(ce.Description), ce.UUID
			je.Error.Parameters = shownParams(ce)
			for k, v := range je.Error.Parameters {
				je.Error.Parameters[k] = a.redact(v)
			}
			if len(je.Error.Parameters) == 0 {
				je.Error.Parameters = nil
			}
		}
		b, _ := json.Marshal(je)
		fmt.Fprintln(a.stderr, string(b))
		return exit
	}
	prefix := "groupctl: "
	if a.what != "" {
		prefix += a.what + ": "
	}
	fmt.Fprintln(a.stderr, prefix+message)
	return exit
}
