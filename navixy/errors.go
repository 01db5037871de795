package navixy

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/session"
	"github.com/groupd/groupd/web"
)

// Navixy's error codes (its backend API's errors page) that groupd sends.
const (
	CodeInternal        = 1   // internal error (HTTP 500)
	CodeWrongHash       = 3   // no hash, or one that cannot be a session
	CodeSessionNotFound = 4   // the hash's session is unknown, expired or logged out
	CodeWrongFormat     = 5   // the body or query string cannot be read
	CodeInvalidParams   = 7   // parameters missing or invalid; errors lists them
	CodeNotPermitted    = 13  // the caller lacks the right (HTTP 403)
	CodeTooManyRequests = 15  // the login queue is full, or too many new sessions (HTTP 429)
	CodeWrongLogin      = 102 // wrong login or password
	CodeNotActivated    = 103 // the user may not log in (login_disabled)
	CodeTooManyLogins   = 105 // the login or the address is locked out
	CodeNotFound        = 201 // the group is unknown or not the caller's (HTTP 403)
	CodeForeignEntities = 217 // a tracker is unknown or not the caller's (HTTP 403)
	CodeAlreadyExists   = 247 // a group has this title already
	descriptionInternal = "Internal error"

	// objectNotFoundCode is the object core's error for unknown or
	// invisible objects in a move (Navixy's 217).
	objectNotFoundCode   = "error.user.object_not_found" // errors.ObjectsNotFound
	descriptionWrongHash = "Wrong user hash"
)

// failure is Navixy's error body.
type failure struct {
	Success bool          `json:"success"`
	Status  failureStatus `json:"status"`
	// Errors names the invalid parameters, for code 7 only.
	Errors []paramError `json:"errors,omitempty"`
}

type failureStatus struct {
	Code        int    `json:"code"`
	Description string `json:"description"`
}

type paramError struct {
	Parameter string `json:"parameter"`
	Error     string `json:"error"`
}

// translate turns a typed groupd error into Navixy's code, its HTTP status
// and its body. Navixy answers 400 unless its OpenAPI file says otherwise:
// 403 for 13, 201 and 217, 429 for 15, 500 for 1.
func translate(e *errors.Error) (int, failure) {
	f := failure{}
	set := func(code int, description string) { f.Status = failureStatus{code, description} }
	status := http.StatusBadRequest
	switch e.Code {
	case "error.user.not_authenticated":
		set(CodeWrongHash, descriptionWrongHash)
	case "error.user.session_not_found":
		set(CodeSessionNotFound, "User session not found or session ended")
	case "error.user.login_failed", "error.user.username_or_password_empty":
		set(CodeWrongLogin, "Wrong login or password")
	case "error.user.login_disabled", "error.user.login_disabled_from", "error.user.login_disabled_to":
		set(CodeNotActivated, "User not activated")
	case "error.user.login_blocked":
		if r := e.Parameters["reason"]; r == session.BlockedBusy || r == session.BlockedNewSessions {
			status = http.StatusTooManyRequests
			set(CodeTooManyRequests, "Too many requests, try again after "+e.Parameters["until"])
		} else {
			set(CodeTooManyLogins, "Too many login attempts, try again after "+e.Parameters["until"])
		}
	case "error.user.no_system_right", "error.user.insufficient_rights", "error.user.delete_system_group":
		status = http.StatusForbidden
		set(CodeNotPermitted, "Operation not permitted")
	case "error.user.group_not_found":
		status = http.StatusForbidden
		set(CodeNotFound, "Not found in the database")
	case objectNotFoundCode:
		status = http.StatusForbidden
		set(CodeForeignEntities, "List contains nonexistent entities")
	case "error.user.integrity_constraint_violation":
		if e.Parameters["constraint"] == "group.name" {
			set(CodeAlreadyExists, "Entity already exists")
		} else { // deleting a group that owns others
			status = http.StatusForbidden
			set(CodeNotPermitted, "Operation not permitted")
		}
	case "error.user.version_mismatch": // a group changed by others on every one of update's attempts
		status = http.StatusTooManyRequests
		set(CodeTooManyRequests, "Too many concurrent changes of this group, try again")
	case "error.api.invalid_content":
		set(CodeWrongFormat, "Wrong request format")
	default:
		switch e.Realm {
		case errors.RealmServer:
			status = http.StatusInternalServerError
			set(CodeInternal, descriptionInternal)
		default: // type_mismatch, invalid_value, attribute_expected, ...: a parameter is wrong
			set(CodeInvalidParams, "Invalid parameters")
			detail := e.Description
			if detail == "" {
				detail = e.Code
			}
			f.Errors = []paramError{{Parameter: e.Parameters["attribute"], Error: detail}}
		}
	}
	return status, f
}

// writeError sends err as Navixy's error. A server error is logged with a
// uuid that its description names, as errors.Write does for easydb's; its
// cause is never sent. A client that has gone gets nothing (web.Error).
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := errors.From(err)
	if errors.Is(r.Context().Err(), context.Canceled) && e.Realm == errors.RealmServer {
		w.WriteHeader(web.StatusClientClosed)
		return
	}
	status, body := translate(e)
	if e.Realm == errors.RealmServer {
		uuid := errors.NewUUID()
		web.Logger(r.Context()).ErrorContext(r.Context(), "server error", slog.String("code", e.Code),
			slog.String("uuid", uuid), slog.Any("cause", e.Cause()))
		body.Status.Description += " (uuid " + uuid + ")"
	}
	// A failed write means the client went away: nothing to tell it.
	_ = web.JSONStatus(w, status, body)
}
