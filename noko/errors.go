package noko

import (
	"net/http"
	"strings"

	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/web"
)

// Error is Noko's error body: a message, and on validation failures the
// fields at fault. It is sent with Status.
type Error struct {
	Status  int          `json:"-"`
	Message string       `json:"message"`
	Errors  []FieldError `json:"errors,omitempty"`
	// UUID names a server error in groupd's log (groupd's addition).
	UUID string `json:"uuid,omitempty"`
}

// FieldError is one item of Noko's errors array. Code is one of Noko's
// standard codes (missing, missing_field, already_exists,
// insufficent_permissions, spelled as Noko's documents spell it) or
// invalid for any other refusal.
type FieldError struct {
	Resource string `json:"resource"`
	Field    string `json:"field"`
	Code     string `json:"code"`
}

func (e *Error) Error() string { return e.Message }

// Noko's codes of the errors array.
const (
	CodeMissing                 = "missing"
	CodeMissingField            = "missing_field"
	CodeAlreadyExists           = "already_exists"
	CodeInsufficientPermissions = "insufficent_permissions" // sic, as Noko's documents spell it
	CodeInvalid                 = "invalid"
)

func badRequest(message string) *Error {
	return &Error{Status: http.StatusBadRequest, Message: message}
}

func notFound() *Error {
	return &Error{Status: http.StatusNotFound, Message: "Not Found"}
}

// validation is Noko's 422 "Validation Failed" with one field at fault.
func validation(resource, field, code string) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Message: "Validation Failed",
		Errors: []FieldError{{Resource: resource, Field: field, Code: code}}}
}

// translate turns any error into Noko's: a Noko error as it is, a core
// error by its code. resource names the kind of thing the request was
// about (Team, User, ProjectGroup, Project), for the errors array.
//
//   - not authenticated, unknown or expired token: 401;
//   - a right refused on something the caller cannot read, or an unknown
//     id in the path: 404 (DESIGN: a group the caller cannot see is a 404);
//   - any other right refused (insufficient_rights, no_system_right): 403;
//   - a value taken: 422 already_exists; a missing attribute: 422
//     missing_field; any other refusal of the core: 422 invalid;
//   - a malformed request: 400; a failure of groupd: 500.
func translate(err error, resource string) *Error {
	var ne *Error
	if errors.As(err, &ne) {
		return ne
	}
	e := errors.From(err)
	field := func(key string) string {
		a := e.Parameters[key]
		if i := strings.LastIndexByte(a, '.'); i >= 0 {
			a = a[i+1:]
		}
		if a == "" {
			return "base"
		}
		return a
	}
	switch {
	case e.Realm == errors.RealmServer:
		return &Error{Status: http.StatusInternalServerError, Message: "Internal Server Error", UUID: e.UUID}
	case e.Code == "error.user.not_authenticated" || e.Code == "error.user.session_not_found" ||
		e.Code == "error.user.session_invalid":
		// never the token itself, which session_not_found's parameters carry
		return &Error{Status: http.StatusUnauthorized,
			Message: "Unauthorized: send a valid groupd token as X-NokoToken, X-FreckleToken or noko_token"}
	case e.Code == "error.user.insufficient_rights" && e.Parameters["operation"] == "read":
		return notFound()
	case strings.HasSuffix(e.Code, "_not_found"):
		return notFound()
	case e.Code == "error.user.insufficient_rights" || e.Code == "error.user.no_system_right":
		return &Error{Status: http.StatusForbidden, Message: "Forbidden: " + describe(e),
			Errors: []FieldError{{Resource: resource, Field: "base", Code: CodeInsufficientPermissions}}}
	case e.Code == "error.user.integrity_constraint_violation":
		return validation(resource, field("constraint"), CodeAlreadyExists)
	case e.Code == "error.api.attribute_expected":
		return validation(resource, field("attribute"), CodeMissingField)
	case e.Realm == errors.RealmAPI:
		return badRequest(describe(e))
	default:
		ve := validation(resource, field("attribute"), CodeInvalid)
		ve.Message = "Validation Failed: " + describe(e)
		return ve
	}
}

// describe is a core error in words: its description, else its code and
// parameters (Error.Error without a cause).
func describe(e *errors.Error) string {
	if e.Description != "" {
		return e.Description
	}
	return e.Error()
}

// writeError sends err as Noko's error; a server error is logged with the
// uuid the answer carries.
func writeError(w http.ResponseWriter, r *http.Request, err error, resource string) {
	var ne *Error
	if !errors.As(err, &ne) {
		err = errors.Logged(r.Context(), web.Logger(r.Context()), err)
	}
	out := translate(err, resource)
	_ = writeJSON(w, out.Status, out)
}
