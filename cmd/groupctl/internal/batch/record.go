// Package batch is groupctl's import and export: reading and writing groups
// and users as JSON (easydb full format), NDJSON and CSV, matching file items
// to what the server has, and writing the differences through the bulk
// endpoints in batches, item failures isolated by parameters.index.
package batch

import (
	"encoding/json"
	"sort"
	"strconv"

	"github.com/groupd/groupd/client"
)

// Kind is what a record describes.
type Kind string

const (
	KindGroup Kind = "group"
	KindUser  Kind = "user"
)

// Str is an optional, nullable text: Set tells whether the file gives the
// attribute at all, Val nil is null (no value).
type Str struct {
	Set bool
	Val *string
}

func setStr(s string) Str { return Str{Set: true, Val: &s} }

// nullIfEmpty is a CSV cell: empty means no value.
func nullIfEmpty(s string) Str {
	if s == "" {
		return Str{Set: true}
	}
	return setStr(s)
}

// Record is one item of an import file.
type Record struct {
	Line int // 1-based line where the item starts
	Kind Kind
	G    *GroupSpec
	U    *UserSpec
	// Err is set when the item could not be read; nothing is sent for it.
	Err *client.Error

	// What the import did with it.
	outcome        string        // created, updated, unchanged; "" while pending
	failure        *client.Error // set when it failed
	id             int64         // the server's id once matched or created (dry run: negative)
	membersApplied bool          // a membership change this group's members list asked for was written
}

// Outcomes of an item.
const (
	Created   = "created"
	Updated   = "updated"
	Unchanged = "unchanged"
	Failed    = "failed"
	Pending   = "pending" // not reached: the run was interrupted or stopped
)

func (r *Record) fail(e *client.Error) {
	if r.failure == nil {
		r.failure = e
	}
}

func (r *Record) failed() bool { return r.failure != nil }

// Outcome is what happened to the record: one of the outcome constants.
func (r *Record) Outcome() string {
	switch {
	case r.failure != nil:
		return Failed
	case r.outcome == Unchanged && r.membersApplied:
		return Updated
	case r.outcome == "":
		return Pending
	}
	return r.outcome
}

// GroupSpec is what a file says about a group: only attributes it gives.
type GroupSpec struct {
	Type                                    string // "" when absent
	Name, Reference, Comment, Authorization Str
	// Displayname: culture -> text, nil text removes the culture. With
	// DisplaynameAll the map is the complete set of cultures (JSON), else it
	// changes only the cultures it names (CSV columns).
	Displayname    map[string]*string
	DisplaynameSet bool
	DisplaynameAll bool
	FrontendPrefs  json.RawMessage // nil: absent; "null": clear
	SystemRights   json.RawMessage // nil: absent
	// Members are logins; MembersSet: the file gives the complete list.
	Members    []string
	MembersSet bool
}

// UserSpec is what a file says about a user.
type UserSpec struct {
	Type          string
	Text          map[string]Str // login, first_name, ... (client.UserTextAttributes)
	LoginDisabled *bool
	FrontendPrefs json.RawMessage
	SystemRights  json.RawMessage
	Emails        []client.Email
	EmailsSet     bool
	Password      *string // sent on create only
	Groups        []GroupKey
	GroupsSet     bool
}

// GroupKey names a group in a user's groups: a CSV token (a reference, else
// a name), or the fields of a short format.
type GroupKey struct {
	Token       string
	Reference   string
	Name        string
	Displayname map[string]string
	ID          int64
}

func (k GroupKey) String() string {
	switch {
	case k.Token != "":
		return k.Token
	case k.Reference != "":
		return k.Reference
	case k.Name != "":
		return k.Name
	case len(k.Displayname) > 0:
		return client.FirstDisplayname(k.Displayname)
	}
	return "#" + strconv.FormatInt(k.ID, 10)
}

// Reference is the record's reference ("" when none).
func (r *Record) Reference() string {
	switch {
	case r.G != nil && r.G.Reference.Val != nil:
		return *r.G.Reference.Val
	case r.U != nil && r.U.Text["reference"].Val != nil:
		return *r.U.Text["reference"].Val
	}
	return ""
}

// Name is the record's name (a group's name or first displayname, a user's
// login; "" when none).
func (r *Record) Name() string {
	switch {
	case r.G != nil && r.G.Name.Val != nil:
		return *r.G.Name.Val
	case r.G != nil:
		for _, c := range sortedKeys(r.G.Displayname) {
			if v := r.G.Displayname[c]; v != nil {
				return *v
			}
		}
	case r.U != nil && r.U.Text["login"].Val != nil:
		return *r.U.Text["login"].Val
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// apiError is a failure found by groupctl itself, in the server's words.
func apiError(code string, params ...string) *client.Error {
	e := &client.Error{Realm: "api", Code: code, Parameters: map[string]string{}}
	if len(code) > 11 && code[:11] == "error.user." {
		e.Realm = "user"
	}
	for i := 0; i+1 < len(params); i += 2 {
		if params[i] == "description" {
			e.Description = params[i+1]
			continue
		}
		e.Parameters[params[i]] = params[i+1]
	}
	return e
}
