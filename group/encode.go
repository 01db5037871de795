package group

import (
	"encoding/json"
	"github.com/groupd/groupd/acl"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/groupd/groupd/input"
)

// The full format, written by hand into one buffer: a listing page of 1,000
// groups with 10,000 ACL entries spent a third of its CPU in encoding/json's
// reflection and the garbage of its intermediate structs. The bytes are
// exactly what encoding/json writes for the same values (field order,
// HTML-safe escaping, compacted raw JSON, sorted map keys);
// TestEncoderMatchesEncodingJSON holds the two together.

// appendGroup appends g in easydb's full format, or without _acl and
// _system_rights unless full (Group.MarshalJSON).
func appendGroup(b []byte, g *Group, full bool) ([]byte, error) {
	b = append(b, `{"_basetype":"group","group":{"_id":`...)
	b = strconv.AppendInt(b, g.ID, 10)
	b = append(b, `,"_version":`...)
	b = strconv.AppendInt(b, g.Version, 10)
	b = append(b, `,"type":`...)
	b = appendString(b, g.Type)
	b = append(b, `,"name":`...)
	b = appendStringPtr(b, g.Name)
	b = append(b, `,"displayname":`...)
	b = appendStringMap(b, g.Displayname)
	b = append(b, `,"comment":`...)
	b = appendStringPtr(b, g.Comment)
	b = append(b, `,"reference":`...)
	b = appendStringPtr(b, g.Reference)
	b = append(b, `,"frontend_prefs":`...)
	b = appendRaw(b, g.FrontendPrefs)
	b = append(b, `,"authorization_info":`...)
	b = appendStringPtr(b, g.AuthorizationInfo)
	b = append(b, `,"color":`...)
	b = appendStringPtr(b, g.Color)
	b = append(b, `,"created_timestamp":`...)
	b = appendTime(b, g.CreatedAt)
	b = append(b, `,"last_updated_timestamp":`...)
	b = appendTime(b, g.UpdatedAt)
	b = append(b, `},"_owner":`...)
	b = appendRef(b, g.Owner)
	if !full {
		return appendGenerated(b, g), nil
	}
	b = append(b, `,"_acl":[`...)
	for i, e := range g.ACL {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"_id":`...)
		b = strconv.AppendInt(b, e.ID, 10)
		b = append(b, `,"who":`...)
		switch {
		case e.WhoOwner:
			b = append(b, `{"_owner":true}`...)
		case i < len(g.ACLWho) && g.ACLWho[i].ID != 0:
			b = appendRef(b, g.ACLWho[i])
		default:
			b = append(b, "null"...)
		}
		b = append(b, `,"rights":`...)
		if e.Stored != nil {
			b = appendRaw(b, e.Stored)
		} else {
			r, err := e.Rights.MarshalJSON()
			if err != nil {
				return nil, err
			}
			b = appendRaw(b, r)
		}
		b = append(b, `,"active":`...)
		b = strconv.AppendBool(b, e.Active)
		if e.From != nil || e.To != nil {
			b = append(b, `,"when":{"from":`...)
			b = appendWhen(b, e.From)
			b = append(b, `,"to":`...)
			b = appendWhen(b, e.To)
			b = append(b, '}')
		}
		b = append(b, `,"date_created":`...)
		b = appendTime(b, e.Created)
		b = append(b, '}')
	}
	b = append(b, `],"_system_rights":`...)
	sr, err := g.SystemRights.MarshalJSON()
	if err != nil {
		return nil, err
	}
	b = appendRaw(b, sr)
	return appendGenerated(b, g), nil
}

// appendGenerated appends the end of the format: _has_acl and the caller's
// _generated_rights.
func appendGenerated(b []byte, g *Group) []byte {
	b = append(b, `,"_has_acl":`...)
	b = strconv.AppendBool(b, len(g.ACL) > 0)
	b = append(b, `,"_generated_rights":{`...)
	names := g.GeneratedRights().Names()
	slices.Sort(names)
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, n)
		b = append(b, ":{}"...)
	}
	return append(b, "}}"...)
}

// appendRef appends r in easydb's short format, as acl.Ref.MarshalJSON
// writes it.
func appendRef(b []byte, r acl.Ref) []byte {
	if r.Kind == "group" {
		b = append(b, `{"_basetype":"group","group":{"_id":`...)
		b = strconv.AppendInt(b, r.ID, 10)
		b = append(b, `,"name":`...)
		b = appendStringPtr(b, r.Name)
		b = append(b, `,"type":`...)
		b = appendString(b, r.Type)
		if len(r.GroupDisplayname) > 0 {
			b = append(b, `,"_displayname":`...)
			b = appendRaw(b, r.GroupDisplayname)
		}
		return append(b, "}}"...)
	}
	b = append(b, `{"_basetype":"user","user":{"_id":`...)
	b = strconv.AppendInt(b, r.ID, 10)
	b = append(b, `,"login":`...)
	b = appendStringPtr(b, r.Name)
	b = append(b, `,"type":`...)
	b = appendString(b, r.Type)
	b = append(b, `,"_generated_displayname":`...)
	b = appendString(b, r.Displayname)
	return append(b, "}}"...)
}

func appendStringPtr(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendString(b, *s)
}

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, TimeFormat)
	return append(b, '"')
}

// appendWhen appends an end of an ACL entry's window with the precision it
// is stored with (input.TimestampFormat), so that a client sending back what
// it read sends the same window; nil is null.
func appendWhen(b []byte, t *time.Time) []byte {
	if t == nil {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, input.TimestampFormat)
	return append(b, '"')
}

// appendStringMap appends m as an object with sorted keys; nil is {}.
func appendStringMap(b []byte, m map[string]string) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, m[k])
	}
	return append(b, '}')
}

// plain reports whether s needs no escaping at all in encoding/json's
// HTML-safe output: printable ASCII other than " \ < > &.
func plain[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// appendString appends s as a JSON string. Strings that need escaping are
// rare (names, logins) and take encoding/json's own path.
func appendString(b []byte, s string) []byte {
	if plain(s) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

// appendRaw appends stored JSON compacted, as encoding/json writes a
// json.RawMessage: PostgreSQL's jsonb text has a space after every colon
// and comma. Raw JSON with characters encoding/json would escape takes its
// path; nil is null.
func appendRaw(b []byte, raw []byte) []byte {
	if raw == nil {
		return append(b, "null"...)
	}
	inString, escaped := false, false
	for _, c := range raw {
		if c >= utf8.RuneSelf || c == '<' || c == '>' || c == '&' {
			return appendRawSlow(b, raw)
		}
	}
	for _, c := range raw {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			continue
		}
		b = append(b, c)
	}
	return b
}

func appendRawSlow(b []byte, raw []byte) []byte {
	q, err := json.Marshal(json.RawMessage(raw))
	if err != nil {
		// not JSON: cannot come from jsonb; keep the output valid
		return append(b, "null"...)
	}
	return append(b, q...)
}
