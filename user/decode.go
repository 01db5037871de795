package user

import (
	"encoding/json"
	"log/slog"
	"net/mail"
	"slices"
	"strconv"
	"strings"

	"github.com/groupd/groupd/acl"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/input"
	"github.com/groupd/groupd/rights"
)

// Limits of the fields clients write; names (logins, types) and
// references have the limits of package input (input.MaxNameLength,
// input.MaxRefLength).
const (
	MaxProfileLength  = 1024
	MaxRemarksLength  = 65536
	MaxEmailLength    = 320
	MaxPasswordLength = 4096 // longer passwords could never log in (package session)
	// MaxMemberChange is the most user ids one members request may name.
	MaxMemberChange = 10000
)

// Password is a password as a client sent it. It never prints, marshals or
// logs as itself, so that no error, log line or audit event can carry it.
type Password string

func (Password) String() string                 { return "[redacted]" }
func (Password) GoString() string               { return "[redacted]" }
func (Password) LogValue() slog.Value           { return slog.StringValue("[redacted]") }
func (Password) MarshalJSON() ([]byte, error)   { return []byte(`"[redacted]"`), nil }
func (p Password) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// textFields are the user attributes kept as optional text, with their
// limit and check; they are the keys of Input.Texts.
var textFields = func() map[string]textField {
	m := map[string]textField{
		"login":             {input.MaxNameLength, input.Text},
		"first_name":        {input.MaxNameLength, input.LongText},
		"last_name":         {input.MaxNameLength, input.LongText},
		"displayname":       {input.MaxNameLength, input.LongText},
		"frontend_language": {input.MaxNameLength, culture},
		"reference":         {input.MaxRefLength, input.Text},
	}
	for _, f := range ProfileFields {
		m[f] = textField{MaxProfileLength, input.LongText}
	}
	m["remarks"] = textField{MaxRemarksLength, input.LongText}
	return m
}()

// textFieldNames are the keys of textFields, sorted, so that the first
// bad attribute of an item is always the same one.
var textFieldNames = func() []string {
	names := make([]string, 0, len(textFields))
	for f := range textFields {
		names = append(names, f)
	}
	slices.Sort(names)
	return names
}()

type textField struct {
	max   int
	check func(s, path string, max int) error
}

func culture(s, path string, _ int) error { return input.Culture(s, path) }

// Input is one validated item of a PUT or POST body. A field that was absent
// keeps its value on update (and takes its default on create); the *Set
// flags and the presence of a key in Texts tell absent from given.
type Input struct {
	input.Head

	Type string // "" when absent
	// Texts are the text attributes that were given (textFields), nil
	// meaning null.
	Texts            map[string]*string
	LoginDisabled    bool
	LoginDisabledSet bool
	FrontendPrefs    json.RawMessage
	FrontendPrefsSet bool

	// Password is the new password when PasswordSet; PasswordClear is
	// "_password": false, which removes the password.
	Password      Password
	PasswordSet   bool
	PasswordClear bool
	// OldPassword is "_old_password", the user's current password, which a
	// user must send to change its own password (groupd's attribute: easydb
	// documents none).
	OldPassword    Password
	OldPasswordSet bool

	Emails    []Email
	EmailsSet bool
	// Groups are the static memberships the user is to have, ascending.
	Groups    []int64
	GroupsSet bool

	acl.Grants // _owner, _acl, _system_rights
}

// DecodeBody reads a PUT or POST body: an array of users in full format.
// On PUT (create only) an item with an _id is refused.
func DecodeBody(body any, createOnly bool) ([]*Input, error) {
	return input.Items(body, func(v any, i int) (*Input, error) { return decodeItem(v, i, createOnly) })
}

// userAttributes are the attributes accepted inside "user": the writable
// ones, and the read-only ones of the full format, accepted and ignored so
// that a user read with GET can be sent back as it is.
var userAttributes = func() []string {
	a := []string{"_id", "_version", "type", "login_disabled", "frontend_prefs", "_generated_displayname",
		"created_timestamp", "last_updated_timestamp"}
	return append(a, textFieldNames...)
}()

// itemAttributes are the attributes of an item; _has_acl and
// _generated_rights are read-only, accepted and ignored.
var itemAttributes = []string{"_basetype", "user", "_owner", "_acl", "_system_rights", "_groups", "_emails",
	"_password", "_old_password", "_has_acl", "_generated_rights"}

func decodeItem(v any, index int, createOnly bool) (*Input, error) {
	head, err := input.DecodeBulkItem(v, index, "user", createOnly, itemAttributes, userAttributes)
	if err != nil {
		return nil, err
	}
	top, u := head.Top, head.Body
	in := &Input{Head: head.Head, Texts: map[string]*string{}}
	if t, has, stringErr := u.String("type"); stringErr != nil {
		return nil, stringErr
	} else if has {
		if !validType(t) {
			return nil, errors.InvalidValue("user.type", `"easydb", "easydb_self_register" or "custom-<name>" expected`)
		}
		in.Type = t
	}
	for _, name := range textFieldNames {
		f := textFields[name]
		if !u.Has(name) {
			continue
		}
		s, has, stringErr := u.String(name)
		if stringErr != nil {
			return nil, stringErr
		}
		if !has {
			in.Texts[name] = nil
			continue
		}
		if checkErr := f.check(s, u.At(name), f.max); checkErr != nil {
			return nil, checkErr
		}
		in.Texts[name] = &s
	}
	if b, has, boolErr := u.Bool("login_disabled"); boolErr != nil {
		return nil, boolErr
	} else if has {
		in.LoginDisabled, in.LoginDisabledSet = b, true
	}
	var frontendPrefsErr error
	if in.FrontendPrefs, in.FrontendPrefsSet, frontendPrefsErr = u.OptionalFrontendPrefs(); frontendPrefsErr != nil {
		return nil, frontendPrefsErr
	}

	if decodePasswordErr := decodePassword(top, in); decodePasswordErr != nil {
		return nil, decodePasswordErr
	}
	if decodeOldPasswordErr := decodeOldPassword(top, in); decodeOldPasswordErr != nil {
		return nil, decodeOldPasswordErr
	}
	if in.Emails, in.EmailsSet, err = decodeEmails(top.M["_emails"]); err != nil {
		return nil, err
	}
	if in.Groups, in.GroupsSet, err = decodeGroups(top.M["_groups"]); err != nil {
		return nil, err
	}
	if in.Grants, err = acl.DecodeGrants(top, rights.UserACLRights, "a user's owner cannot be set to null"); err != nil {
		return nil, err
	}
	return in, nil
}

// validType: the user types of easydb. Only easydb, easydb_self_register and
// custom-* are created through the API; the others are accepted here so
// that a user read with GET can be sent back, and the store decides.
func validType(t string) bool {
	switch t {
	case "easydb", "easydb_self_register", "system", "anonymous", "email", "collection", "sso":
		return true
	}
	return rights.IsCustomGroupType(t) && input.Text(t, "user.type", input.MaxNameLength) == nil
}

// decodePassword reads _password: a string sets it, false removes it (easydb:
// "the current password is archived"), true (easydb: generate one and send
// it by e-mail) is refused, as groupd sends no e-mail.
func decodePassword(top input.Object, in *Input) error {
	v := top.M["_password"]
	switch pw := v.(type) {
	case nil:
		return nil
	case bool:
		if pw {
			return errors.InvalidValue("_password", "groupd does not generate passwords; send the password as a string")
		}
		in.PasswordClear = true
		return nil
	case string:
		if pw == "" {
			return errors.InvalidValue("_password", "must not be empty")
		}
		if len(pw) > MaxPasswordLength {
			return errors.InvalidValue("_password", "at most "+strconv.Itoa(MaxPasswordLength)+" bytes")
		}
		in.Password, in.PasswordSet = Password(pw), true
		return nil
	}
	return errors.TypeMismatch("_password", "string")
}

// decodeOldPassword reads _old_password: a string, or absent or null.
func decodeOldPassword(top input.Object, in *Input) error {
	switch pw := top.M["_old_password"].(type) {
	case nil:
		return nil
	case string:
		if len(pw) > MaxPasswordLength {
			return errors.InvalidValue("_old_password", "at most "+strconv.Itoa(MaxPasswordLength)+" bytes")
		}
		in.OldPassword, in.OldPasswordSet = Password(pw), true
		return nil
	}
	return errors.TypeMismatch("_old_password", "string")
}

// decodeEmails reads _emails; null means "not given". The write-only and
// read-only attributes of easydb's e-mail entries that concern e-mail
// sending and primary-address confirmation are accepted and ignored: groupd
// sends no e-mail.
func decodeEmails(v any) ([]Email, bool, error) {
	if v == nil {
		return nil, false, nil
	}
	arr, err := input.AsArray(v, "_emails")
	if err != nil {
		return nil, false, err
	}
	out := make([]Email, 0, len(arr))
	seen := map[string]bool{}
	for i, item := range arr {
		at := "_emails[" + strconv.Itoa(i) + "]"
		o, err := input.AsObject(item, at)
		if err != nil {
			return nil, false, err
		}
		if onlyErr := o.Only("email", "use_for_login", "use_for_email", "needs_confirmation", "cancel_confirmation",
			"send_email", "send_email_include_password", "is_primary", "intended_primary",
			"requested_confirmation_date", "confirmed_date"); onlyErr != nil {
			return nil, false, onlyErr
		}
		addr, has, err := o.String("email")
		if err != nil {
			return nil, false, err
		}
		if !has {
			return nil, false, errors.AttributeExpected(o.At("email"))
		}
		if err := validEmail(addr, o.At("email")); err != nil {
			return nil, false, err
		}
		if seen[strings.ToLower(addr)] {
			return nil, false, errors.InvalidValue(o.At("email"), "the address appears more than once")
		}
		seen[strings.ToLower(addr)] = true
		e := Email{Email: addr}
		for key, dst := range map[string]*bool{"use_for_login": &e.UseForLogin, "use_for_email": &e.UseForEmail,
			"needs_confirmation": &e.NeedsConfirmation} {
			b, _, err := o.Bool(key)
			if err != nil {
				return nil, false, err
			}
			*dst = b
		}
		for _, key := range []string{"cancel_confirmation", "send_email", "send_email_include_password", "is_primary",
			"intended_primary"} {
			if _, _, err := o.Bool(key); err != nil {
				return nil, false, err
			}
		}
		out = append(out, e)
	}
	return out, true, nil
}

func validEmail(s, path string) error {
	if err := input.Text(s, path, MaxEmailLength); err != nil {
		return err
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return errors.InvalidValue(path, "an e-mail address such as jane@example.com expected")
	}
	return nil
}

// decodeGroups reads _groups, the static memberships: null means "not
// given"; items are groups in short format, {"group":{"_id":N}}, whose
// display fields (name, type, _displayname) and _automatic_auth are
// accepted and ignored. The result is sorted and without repetitions.
func decodeGroups(v any) ([]int64, bool, error) {
	if v == nil {
		return nil, false, nil
	}
	arr, err := input.AsArray(v, "_groups")
	if err != nil {
		return nil, false, err
	}
	ids := make([]int64, 0, len(arr))
	seen := map[int64]bool{}
	for i, item := range arr {
		at := "_groups[" + strconv.Itoa(i) + "]"
		o, err := input.AsObject(item, at)
		if err != nil {
			return nil, false, err
		}
		if onlyErr := o.Only("_basetype", "group", "_automatic_auth"); onlyErr != nil {
			return nil, false, onlyErr
		}
		if bt, has, stringErr := o.String("_basetype"); stringErr != nil {
			return nil, false, stringErr
		} else if has && bt != "group" {
			return nil, false, errors.InvalidValue(o.At("_basetype"), `must be "group"`)
		}
		g, err := o.Object("group")
		if err != nil {
			return nil, false, err
		}
		id, has, err := g.ID("_id")
		if err != nil {
			return nil, false, err
		}
		if !has {
			return nil, false, errors.AttributeExpected(g.At("_id"))
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, true, nil
}

// MemberChange is a validated body of POST /api/v1/group/<id>/members.
type MemberChange struct {
	Add    []int64 // in request order, without repetitions
	Remove []int64
}

// DecodeMembers reads {"add": [user ids], "remove": [user ids]}; either may
// be absent or null. A user id in both lists is refused.
func DecodeMembers(body any) (MemberChange, error) {
	var mc MemberChange
	o, err := input.AsObject(body, "body")
	if err != nil {
		return mc, err
	}
	o.Path = ""
	if err := o.Only("add", "remove"); err != nil {
		return mc, err
	}
	inAdd := map[int64]bool{}
	for _, key := range []string{"add", "remove"} {
		v := o.M[key]
		if v == nil {
			continue
		}
		arr, err := input.AsArray(v, key)
		if err != nil {
			return mc, err
		}
		seen := map[int64]bool{}
		for i, item := range arr {
			at := key + "[" + strconv.Itoa(i) + "]"
			id, err := input.Int64(item, at)
			if err != nil {
				return mc, err
			}
			if id <= 0 {
				return mc, errors.InvalidValue(at, "positive integer expected")
			}
			if key == "remove" && inAdd[id] {
				return mc, errors.InvalidValue(at, "user "+strconv.FormatInt(id, 10)+" is also in add")
			}
			if seen[id] {
				continue
			}
			seen[id] = true
			if key == "add" {
				inAdd[id] = true
				mc.Add = append(mc.Add, id)
			} else {
				mc.Remove = append(mc.Remove, id)
			}
		}
	}
	if len(mc.Add)+len(mc.Remove) > MaxMemberChange {
		return mc, errors.InvalidValue("add", "at most "+strconv.Itoa(MaxMemberChange)+" user ids per request")
	}
	return mc, nil
}
