// Package errors is the error package of groupd. It replaces the standard
// library's errors package for the whole codebase (Is, As, Unwrap, New and Join
// are re-exported) and defines the typed easydb error that every refusal,
// malformed request and failure is turned into before it reaches a client.
//
// Code that also needs the standard package imports this one as apierrors,
// the way Kubernetes imports its api/errors.
package errors

import (
	stderrors "errors"
	"fmt"
	"maps"
	"sort"
	"strings"
)

// Re-exports of the standard library, so that no file needs both packages.
var (
	Is     = stderrors.Is
	As     = stderrors.As
	Unwrap = stderrors.Unwrap
	New    = stderrors.New
	Join   = stderrors.Join
)

// Errorf is fmt.Errorf, re-exported so that wrapping stays in one vocabulary.
func Errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// Realm is the part of the system an error belongs to. It decides the HTTP
// status (see statusByRealm) and which fields the body carries.
type Realm string

const (
	RealmAPI    Realm = "api"    // the request is malformed
	RealmUser   Realm = "user"   // the request is well formed but refused
	RealmServer Realm = "server" // groupd or its database failed
)

// statusByRealm is the one table that maps error kinds to HTTP statuses.
// easydb answers every api and user error with 400 and every server error with 500.
var statusByRealm = map[Realm]int{
	RealmAPI:    400,
	RealmUser:   400,
	RealmServer: 500,
}

// Error is the easydb error: exactly the body easydb 5 sends,
// {"realm","code","parameters","description","uuid"}. Parameter values are
// strings, as in easydb. A server error keeps its cause for the log; the
// cause is never serialised.
type Error struct {
	Realm       Realm             `json:"realm"`
	Code        string            `json:"code"`
	Parameters  map[string]string `json:"parameters,omitempty"`
	Description string            `json:"description,omitempty"`
	UUID        string            `json:"uuid,omitempty"`

	cause error
}

// Error implements error. The text names the code and the parameters in a
// stable order, which keeps logs and test failures readable.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Code)
	if len(e.Parameters) > 0 {
		keys := make([]string, 0, len(e.Parameters))
		for k := range e.Parameters {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString(" (")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s=%q", k, e.Parameters[k])
		}
		b.WriteString(")")
	}
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	if e.cause != nil {
		b.WriteString(": ")
		b.WriteString(e.cause.Error())
	}
	return b.String()
}

// Unwrap returns the cause of a server error, so that errors.Is sees through it.
func (e *Error) Unwrap() error { return e.cause }

// Status is the HTTP status this error is sent with.
func (e *Error) Status() int {
	if s, ok := statusByRealm[e.Realm]; ok {
		return s
	}
	return 500
}

// Is reports whether target is an *Error with the same code, so that
// errors.Is(err, errors.NotAuthenticated()) works without comparing parameters.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// With returns a copy of e with one more parameter.
func (e *Error) With(key, value string) *Error {
	c := *e
	c.Parameters = maps.Clone(e.Parameters)
	if c.Parameters == nil {
		c.Parameters = map[string]string{}
	}
	c.Parameters[key] = value
	return &c
}

// Cause is the underlying error of a server error, nil for others.
func (e *Error) Cause() error { return e.cause }

// CodeOf returns the easydb code of err, or "" when err carries none.
func CodeOf(err error) string {
	if e, ok := typed(err); ok {
		return e.Code
	}
	return ""
}

// constraintViolation is a unique constraint the database refused although
// a store checked it (db.UniqueViolation: a concurrent request took the
// value first). It is answered as error.user.integrity_constraint_violation
// naming the attribute; the interface keeps package db from building easydb
// errors and this package from importing db.
type constraintViolation interface {
	error
	ViolatedAttribute() string
}

// typed is the easydb error that err carries: an *Error anywhere in its
// chain, or a constraint violation made one.
func typed(err error) (*Error, bool) {
	var e *Error
	if As(err, &e) {
		return e, true
	}
	var v constraintViolation
	if As(err, &v) {
		return IntegrityConstraintViolation(v.ViolatedAttribute()), true
	}
	return nil, false
}

// From turns any error into an *Error: a typed error is returned as it is
// (found anywhere in the chain), anything else becomes error.server.generic
// with err as its cause. Which untyped failures are the database's is
// decided where requests are answered (package web), not here.
func From(err error) *Error {
	if e, ok := typed(err); ok {
		return e
	}
	return ServerGeneric(err)
}

// WithIndex marks err as belonging to item index of a bulk request:
// easydb clients find the offending item by parameters.index (0-based).
func WithIndex(err error, index int) error {
	e, ok := typed(err)
	if !ok || e.Realm == RealmServer {
		return err
	}
	return e.With("index", fmt.Sprint(index))
}

func newError(realm Realm, code string, params map[string]string, description string) *Error {
	return &Error{Realm: realm, Code: code, Parameters: params, Description: description}
}

func params(kv ...string) map[string]string {
	m := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}
