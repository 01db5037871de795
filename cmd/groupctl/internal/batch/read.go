package batch

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/groupd/groupd/client"
)

// Formats of import and export files.
const (
	FormatJSON   = "json"   // an array of items in easydb full format
	FormatNDJSON = "ndjson" // one item in full format per line
	FormatCSV    = "csv"    // one item per row, columns named in the header
)

// ListSep separates the entries of a CSV list cell (members, groups, email).
const ListSep = ";"

// FormatError is a file that cannot be read at all (as opposed to a bad
// item, which becomes a failed record).
type FormatError struct{ Msg string }

func (e *FormatError) Error() string { return e.Msg }

func formatErr(format string, args ...any) error { return &FormatError{fmt.Sprintf(format, args...)} }

// DetectFormat picks the format from the file name, else from the content.
func DetectFormat(name string, data []byte) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		return FormatJSON
	case ".ndjson", ".jsonl":
		return FormatNDJSON
	case ".csv":
		return FormatCSV
	}
	t := bytes.TrimLeft(bytes.TrimPrefix(data, bom), " \t\r\n")
	switch {
	case len(t) > 0 && t[0] == '[':
		return FormatJSON
	case len(t) > 0 && t[0] == '{':
		return FormatNDJSON
	}
	return FormatCSV
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// Read parses a whole file. kind ("" for auto) applies to CSV, whose header
// otherwise decides: a "login" column means users, anything else groups.
func Read(data []byte, format string, kind Kind) ([]*Record, error) {
	data = bytes.TrimPrefix(data, bom)
	switch format {
	case FormatJSON:
		return readJSON(data)
	case FormatNDJSON:
		return readNDJSON(data)
	case FormatCSV:
		return readCSV(data, kind)
	}
	return nil, formatErr("unknown format %q (json, ndjson or csv)", format)
}

// --- JSON and NDJSON -------------------------------------------------------

func readJSON(data []byte) ([]*Record, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, formatErr("JSON: %v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, formatErr("JSON: the file must be an array of groups or users in full format")
	}
	lines := newLineCounter(data)
	var recs []*Record
	for dec.More() {
		start := skipSpaceComma(data, int(dec.InputOffset()))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, formatErr("JSON, line %d: %v", lines.at(start), err)
		}
		recs = append(recs, parseItem(raw, lines.at(start)))
	}
	if _, err := dec.Token(); err != nil {
		return nil, formatErr("JSON: %v", err)
	}
	return recs, nil
}

func skipSpaceComma(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n' || data[i] == ',') {
		i++
	}
	return i
}

// lineCounter maps byte offsets, asked in increasing order, to line numbers.
type lineCounter struct {
	data []byte
	off  int
	line int
}

func newLineCounter(data []byte) *lineCounter { return &lineCounter{data: data, line: 1} }

func (l *lineCounter) at(off int) int {
	if off < l.off {
		l.off, l.line = 0, 1
	}
	l.line += bytes.Count(l.data[l.off:off], []byte{'\n'})
	l.off = off
	return l.line
}

func readNDJSON(data []byte) ([]*Record, error) {
	var recs []*Record
	for n, line := range bytes.Split(data, []byte{'\n'}) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if !json.Valid(line) {
			recs = append(recs, &Record{Line: n + 1, Err: apiError("error.api.invalid_content",
				"description", "line is not a JSON value")})
			continue
		}
		recs = append(recs, parseItem(line, n+1))
	}
	return recs, nil
}

// parseItem reads one item in full format.
func parseItem(raw []byte, line int) *Record {
	rec := &Record{Line: line}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil || top == nil {
		rec.Err = apiError("error.api.type_mismatch", "attribute", "item", "expected", "object")
		return rec
	}
	var bt string
	if b, ok := top["_basetype"]; ok {
		if json.Unmarshal(b, &bt) != nil {
			rec.Err = apiError("error.api.type_mismatch", "attribute", "_basetype", "expected", "string")
			return rec
		}
	}
	switch {
	case bt == "group" || (bt == "" && top["group"] != nil):
		rec.Kind = KindGroup
		rec.G, rec.Err = parseGroup(top)
	case bt == "user" || (bt == "" && top["user"] != nil):
		rec.Kind = KindUser
		rec.U, rec.Err = parseUser(top)
	default:
		rec.Err = apiError("error.api.attribute_expected", "attribute", "_basetype",
			"description", `an item needs "_basetype": "group" or "user"`)
	}
	return rec
}

// object decodes raw as a JSON object (keys kept raw).
func object(raw json.RawMessage, attr string) (map[string]json.RawMessage, *client.Error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, apiError("error.api.type_mismatch", "attribute", attr, "expected", "object")
	}
	return m, nil
}

func isNull(raw json.RawMessage) bool {
	return raw == nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// optText reads an optional nullable string attribute.
func optText(m map[string]json.RawMessage, key, attr string) (Str, *client.Error) {
	raw, ok := m[key]
	if !ok {
		return Str{}, nil
	}
	if isNull(raw) {
		return Str{Set: true}, nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return Str{}, apiError("error.api.type_mismatch", "attribute", attr, "expected", "string")
	}
	return setStr(s), nil
}

func only(m map[string]json.RawMessage, prefix string, allowed ...string) *client.Error {
	for k := range m {
		ok := false
		for _, a := range allowed {
			if k == a {
				ok = true
				break
			}
		}
		if !ok {
			return apiError("error.api.attribute_not_accepted", "attribute", prefix+k)
		}
	}
	return nil
}

func rawObject(m map[string]json.RawMessage, key string) (json.RawMessage, *client.Error) {
	raw, ok := m[key]
	if !ok || isNull(raw) {
		return nil, nil
	}
	if _, err := object(raw, key); err != nil {
		return nil, err
	}
	return raw, nil
}

func parseGroup(top map[string]json.RawMessage) (*GroupSpec, *client.Error) {
	// _id, _version, _owner, _acl and read-only attributes are accepted and
	// ignored: items are matched by reference and name, and ids, owners and
	// ACL subjects are those of the server the file came from.
	if err := only(top, "", "_basetype", "group", "_owner", "_acl", "_system_rights", "_has_acl",
		"_generated_rights", "_members"); err != nil {
		return nil, err
	}
	if top["group"] == nil {
		return nil, apiError("error.api.attribute_expected", "attribute", "group")
	}
	g, err := object(top["group"], "group")
	if err != nil {
		return nil, err
	}
	if onlyErr := only(g, "group.", "_id", "_version", "type", "name", "displayname", "comment", "reference",
		"frontend_prefs", "authorization_info", "created_timestamp", "last_updated_timestamp"); onlyErr != nil {
		return nil, onlyErr
	}
	s := &GroupSpec{}
	if raw, ok := g["type"]; ok && !isNull(raw) {
		if json.Unmarshal(raw, &s.Type) != nil {
			return nil, apiError("error.api.type_mismatch", "attribute", "group.type", "expected", "string")
		}
	}
	for _, f := range []struct {
		key string
		dst *Str
	}{{"name", &s.Name}, {"reference", &s.Reference}, {"comment", &s.Comment},
		{"authorization_info", &s.Authorization}} {
		if *f.dst, err = optText(g, f.key, "group."+f.key); err != nil {
			return nil, err
		}
	}
	if raw, ok := g["displayname"]; ok {
		s.DisplaynameSet, s.DisplaynameAll = true, true
		s.Displayname = map[string]*string{}
		if !isNull(raw) {
			var m map[string]*string
			if json.Unmarshal(raw, &m) != nil {
				return nil, apiError("error.api.type_mismatch", "attribute", "group.displayname",
					"expected", "object of strings")
			}
			for c, v := range m {
				if v != nil {
					s.Displayname[c] = v
				}
			}
		}
	}
	if raw, ok := g["frontend_prefs"]; ok {
		if isNull(raw) {
			s.FrontendPrefs = json.RawMessage("null")
		} else if s.FrontendPrefs, err = rawObject(g, "frontend_prefs"); err != nil {
			return nil, err
		}
	}
	if s.SystemRights, err = rawObject(top, "_system_rights"); err != nil {
		return nil, err
	}
	if raw, ok := top["_members"]; ok && !isNull(raw) {
		if json.Unmarshal(raw, &s.Members) != nil {
			return nil, apiError("error.api.type_mismatch", "attribute", "_members", "expected", "array of logins")
		}
		s.MembersSet = true
	}
	return s, nil
}

func parseUser(top map[string]json.RawMessage) (*UserSpec, *client.Error) {
	if err := only(top, "", "_basetype", "user", "_owner", "_acl", "_system_rights", "_groups", "_emails",
		"_has_acl", "_generated_rights", "_password"); err != nil {
		return nil, err
	}
	if top["user"] == nil {
		return nil, apiError("error.api.attribute_expected", "attribute", "user")
	}
	u, err := object(top["user"], "user")
	if err != nil {
		return nil, err
	}
	allowed := append([]string{"_id", "_version", "type", "login_disabled", "frontend_prefs",
		"_generated_displayname", "created_timestamp", "last_updated_timestamp"}, client.UserTextAttributes...)
	if onlyErr := only(u, "user.", allowed...); onlyErr != nil {
		return nil, onlyErr
	}
	s := &UserSpec{Text: map[string]Str{}}
	if raw, ok := u["type"]; ok && !isNull(raw) {
		if json.Unmarshal(raw, &s.Type) != nil {
			return nil, apiError("error.api.type_mismatch", "attribute", "user.type", "expected", "string")
		}
	}
	for _, a := range client.UserTextAttributes {
		v, optTextErr := optText(u, a, "user."+a)
		if optTextErr != nil {
			return nil, optTextErr
		}
		if v.Set {
			s.Text[a] = v
		}
	}
	if raw, ok := u["login_disabled"]; ok && !isNull(raw) {
		var b bool
		if json.Unmarshal(raw, &b) != nil {
			return nil, apiError("error.api.type_mismatch", "attribute", "user.login_disabled", "expected", "boolean")
		}
		s.LoginDisabled = &b
	}
	if raw, ok := u["frontend_prefs"]; ok {
		if isNull(raw) {
			s.FrontendPrefs = json.RawMessage("null")
		} else if s.FrontendPrefs, err = rawObject(u, "frontend_prefs"); err != nil {
			return nil, err
		}
	}
	if s.SystemRights, err = rawObject(top, "_system_rights"); err != nil {
		return nil, err
	}
	if raw, ok := top["_emails"]; ok && !isNull(raw) {
		if json.Unmarshal(raw, &s.Emails) != nil {
			return nil, apiError("error.api.type_mismatch", "attribute", "_emails", "expected", "array of e-mails")
		}
		s.EmailsSet = true
	}
	if raw, ok := top["_password"]; ok && !isNull(raw) {
		var p string
		if json.Unmarshal(raw, &p) == nil {
			s.Password = &p
		}
	}
	if raw, ok := top["_groups"]; ok && !isNull(raw) {
		var gs []client.ShortRef
		if json.Unmarshal(raw, &gs) != nil {
			return nil, apiError("error.api.type_mismatch", "attribute", "_groups", "expected", "array of groups")
		}
		s.GroupsSet = true
		for _, g := range gs {
			if g.Group == nil {
				return nil, apiError("error.api.attribute_expected", "attribute", "_groups[].group")
			}
			k := GroupKey{ID: g.Group.ID, Displayname: g.Group.Displayname}
			if g.Group.Reference != nil {
				k.Reference = *g.Group.Reference
			}
			if g.Group.Name != nil {
				k.Name = *g.Group.Name
			}
			s.Groups = append(s.Groups, k)
		}
	}
	return s, nil
}

// --- CSV -------------------------------------------------------------------

// GroupColumns are the CSV columns of groups (besides displayname:<culture>).
var GroupColumns = []string{"reference", "name", "type", "comment", "authorization_info", "members"}

// UserColumns are the CSV columns of users.
func UserColumns() []string {
	cols := append([]string{}, client.UserTextAttributes...)
	return append(cols, "type", "login_disabled", "email", "groups")
}

func readCSV(data []byte, kind Kind) ([]*Record, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.ReuseRecord = false
	header, err := r.Read()
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		return nil, formatErr("CSV header: %v", err)
	}
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	if kind == "" {
		kind = KindGroup
		for _, h := range header {
			if h == "login" {
				kind = KindUser
			}
		}
	}
	known := map[string]bool{}
	cols := GroupColumns
	if kind == KindUser {
		cols = UserColumns()
	}
	for _, c := range cols {
		known[c] = true
	}
	seen := map[string]bool{}
	for _, h := range header {
		ok := known[h] || (kind == KindGroup && strings.HasPrefix(h, "displayname:") && len(h) > len("displayname:"))
		if !ok {
			return nil, formatErr("CSV: unknown column %q for %ss (columns: %s%s)", h, kind, strings.Join(cols, ", "),
				map[bool]string{true: ", displayname:<culture>"}[kind == KindGroup])
		}
		if seen[h] {
			return nil, formatErr("CSV: column %q appears twice", h)
		}
		seen[h] = true
	}
	r.FieldsPerRecord = len(header)
	var recs []*Record
	for {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			recs = append(recs, &Record{Line: line, Kind: kind, Err: apiError("error.api.invalid_content",
				"description", "CSV: "+errMsg(err))})
			continue
		}
		if allEmpty(row) {
			continue
		}
		rec := &Record{Line: line, Kind: kind}
		if kind == KindUser {
			rec.U, rec.Err = csvUser(header, row)
		} else {
			rec.G, rec.Err = csvGroup(header, row)
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

func errMsg(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func allEmpty(row []string) bool {
	for _, c := range row {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// splitList splits a list cell at ListSep, trimming entries and dropping
// empty ones.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ListSep) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func csvGroup(header, row []string) (*GroupSpec, *client.Error) {
	s := &GroupSpec{}
	for i, h := range header {
		v := row[i]
		switch {
		case h == "name":
			s.Name = nullIfEmpty(v)
		case h == "reference":
			s.Reference = nullIfEmpty(v)
		case h == "comment":
			s.Comment = nullIfEmpty(v)
		case h == "authorization_info":
			s.Authorization = nullIfEmpty(v)
		case h == "type":
			s.Type = strings.TrimSpace(v)
		case h == "members":
			s.Members, s.MembersSet = splitList(v), true
		case strings.HasPrefix(h, "displayname:"):
			if s.Displayname == nil {
				s.Displayname = map[string]*string{}
			}
			s.DisplaynameSet = true
			if v == "" {
				s.Displayname[h[len("displayname:"):]] = nil
			} else {
				s.Displayname[h[len("displayname:"):]] = &v
			}
		}
	}
	return s, nil
}

func csvUser(header, row []string) (*UserSpec, *client.Error) {
	s := &UserSpec{Text: map[string]Str{}}
	for i, h := range header {
		v := row[i]
		switch h {
		case "type":
			s.Type = strings.TrimSpace(v)
		case "login_disabled":
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "":
			case "true", "1", "yes":
				b := true
				s.LoginDisabled = &b
			case "false", "0", "no":
				b := false
				s.LoginDisabled = &b
			default:
				return nil, apiError("error.api.invalid_value", "attribute", "user.login_disabled",
					"reason", "true or false expected")
			}
		case "email":
			s.EmailsSet = true
			for _, addr := range splitList(v) {
				s.Emails = append(s.Emails, client.Email{Email: addr, UseForEmail: true})
			}
		case "groups":
			s.GroupsSet = true
			for _, t := range splitList(v) {
				s.Groups = append(s.Groups, GroupKey{Token: t})
			}
		default:
			s.Text[h] = nullIfEmpty(v)
		}
	}
	return s, nil
}
