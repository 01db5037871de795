// Package input reads request bodies decoded with json.Decoder.UseNumber
// (maps, slices, json.Number, strings, bools, nil) and validates them field by
// field, naming the attribute's path in every error (error.api.type_mismatch,
// error.api.attribute_expected, error.api.attribute_not_accepted,
// error.api.invalid_value), so that a client learns exactly what is wrong.
package input

import (
	"encoding/json"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/storable"
)

// Object is a JSON object at a path.
type Object struct {
	Path string
	M    map[string]any
}

// AsObject asserts that v is an object.
func AsObject(v any, path string) (Object, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Object{}, errors.TypeMismatch(path, "object")
	}
	return Object{Path: path, M: m}, nil
}

// AsArray asserts that v is an array.
func AsArray(v any, path string) ([]any, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, errors.TypeMismatch(path, "array")
	}
	return a, nil
}

// At is the path of key inside o.
func (o Object) At(key string) string {
	if o.Path == "" {
		return key
	}
	return o.Path + "." + key
}

// Only refuses keys outside allowed (error.api.attribute_not_accepted),
// checking keys in sorted order so the error is deterministic.
func (o Object) Only(allowed ...string) error {
	keys := make([]string, 0, len(o.M))
	for k := range o.M {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		found := false
		for _, a := range allowed {
			if a == k {
				found = true
				break
			}
		}
		if !found {
			return errors.AttributeNotAccepted(o.At(k))
		}
	}
	return nil
}

// Has reports whether key is present (even as null).
func (o Object) Has(key string) bool { _, ok := o.M[key]; return ok }

// IsNull reports whether key is absent or null.
func (o Object) IsNull(key string) bool { return o.M[key] == nil }

// Object returns the object at key; required: absent or null is an error.
func (o Object) Object(key string) (Object, error) {
	v, ok := o.M[key]
	if !ok || v == nil {
		return Object{}, errors.AttributeExpected(o.At(key))
	}
	return AsObject(v, o.At(key))
}

// Int64 returns the integer at key; ok is false when absent or null.
func (o Object) Int64(key string) (n int64, ok bool, err error) {
	v := o.M[key]
	if v == nil {
		return 0, false, nil
	}
	n, err = Int64(v, o.At(key))
	return n, err == nil, err
}

// Int64 asserts that v is an integer that fits int64.
func Int64(v any, path string) (int64, error) {
	num, isNum := v.(json.Number)
	if !isNum {
		return 0, errors.TypeMismatch(path, "integer")
	}
	n, err := strconv.ParseInt(string(num), 10, 64)
	if err != nil {
		f, ferr := num.Float64()
		if ferr == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int64(f), nil
		}
		if ferr == nil && f == math.Trunc(f) {
			return 0, errors.InvalidValue(path, "integer out of range")
		}
		return 0, errors.TypeMismatch(path, "integer")
	}
	return n, nil
}

// ID returns a positive id at key; ok is false when absent or null.
func (o Object) ID(key string) (id int64, ok bool, err error) {
	id, ok, err = o.Int64(key)
	if err == nil && ok && id <= 0 {
		return 0, false, errors.InvalidValue(o.At(key), "positive integer expected")
	}
	return id, ok, err
}

// String returns the string at key; ok is false when absent or null.
func (o Object) String(key string) (s string, ok bool, err error) {
	v := o.M[key]
	if v == nil {
		return "", false, nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", false, errors.TypeMismatch(o.At(key), "string")
	}
	return s, true, nil
}

// Bool returns the boolean at key; ok is false when absent or null.
func (o Object) Bool(key string) (b bool, ok bool, err error) {
	v := o.M[key]
	if v == nil {
		return false, false, nil
	}
	b, isBool := v.(bool)
	if !isBool {
		return false, false, errors.TypeMismatch(o.At(key), "boolean")
	}
	return b, true, nil
}

// Time returns the RFC 3339 timestamp at key; ok is false when absent or null.
func (o Object) Time(key string) (t time.Time, ok bool, err error) {
	s, ok, err := o.String(key)
	if err != nil || !ok {
		return time.Time{}, false, err
	}
	t, err = Timestamp(s, o.At(key))
	return t, err == nil, err
}

// Timestamp range: what both PostgreSQL's timestamptz and RFC 3339 output
// (a four-digit year, in UTC as groupd writes it) can hold.
var (
	MinTimestamp = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxTimestamp = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
)

// Timestamp reads an RFC 3339 timestamp with at most microsecond precision
// kept (PostgreSQL's): digits beyond microseconds are dropped here, so that
// what is stored is exactly what is read back, and a client that sends back
// what it read sends the stored value. Offsets must lie within ±23:59, and
// the instant within MinTimestamp..MaxTimestamp.
func Timestamp(s, path string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, errors.InvalidValue(path, "RFC 3339 timestamp expected, e.g. 2026-01-31T12:00:00Z")
	}
	if _, offset := t.Zone(); offset <= -24*3600 || offset >= 24*3600 {
		return time.Time{}, errors.InvalidValue(path, "time zone offset from -23:59 to +23:59 expected")
	}
	t = t.Truncate(time.Microsecond)
	if t.Before(MinTimestamp) || t.After(MaxTimestamp) {
		return time.Time{}, errors.InvalidValue(path, "timestamp from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z expected")
	}
	return t.UTC(), nil
}

// TimestampFormat writes timestamps that keep what PostgreSQL holds:
// RFC 3339 in UTC with up to six fractional digits (none when whole).
const TimestampFormat = "2006-01-02T15:04:05.999999Z07:00"

// Storable reports whether PostgreSQL can hold s in a text or jsonb value
// (storable.Text).
func Storable(s string) bool { return storable.Text(s) }

// Limits of the names and references clients write, the same for groups
// and users: MaxNameLength bounds a name, a display name, a login and a
// type, MaxRefLength a reference.
const (
	MaxNameLength = 256
	MaxRefLength  = 1024
)

// MaxFilterLength bounds a list filter's substring (name=, login=): the
// cost of a substring match grows with the pattern's length (docs/benchmarks.md,
// "Measurements behind the code"), and no name, display name or login is
// longer than this, so a longer filter can match nothing.
const MaxFilterLength = MaxNameLength

// Query reads query parameter name ("" when absent): it must be storable
// (valid UTF-8, no NUL) and at most max characters, else
// error.api.invalid_value naming the parameter.
func Query(q url.Values, name string, max int) (string, error) {
	s := q.Get(name)
	if !utf8.ValidString(s) {
		return "", errors.InvalidValue(name, "invalid UTF-8")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "", errors.InvalidValue(name, "NUL characters are not allowed")
	}
	if utf8.RuneCountInString(s) > max {
		return "", errors.InvalidValue(name, "at most "+strconv.Itoa(max)+" characters")
	}
	return s, nil
}

// StorableJSON refuses a string or object key holding NUL anywhere in v
// (storable.JSON).
func StorableJSON(v any, path string) error { return storable.JSON(v, path) }

// Text validates a display text: 1 to max characters, none of them a
// control or format character (zero-width joiners of emoji and scripts
// excepted), and at least one of them visible (Visible).
func Text(s, path string, max int) error {
	if !utf8.ValidString(s) {
		return errors.InvalidValue(path, "invalid UTF-8")
	}
	n := utf8.RuneCountInString(s)
	if n == 0 {
		return errors.InvalidValue(path, "must not be empty")
	}
	if n > max {
		return errors.InvalidValue(path, "at most "+strconv.Itoa(max)+" characters")
	}
	visible := false
	for _, r := range s {
		if r == '\u200c' || r == '\u200d' {
			continue
		}
		if !unicode.IsGraphic(r) {
			return errors.InvalidValue(path, "control and format characters are not allowed")
		}
		visible = visible || Visible(r)
	}
	if !visible {
		return errors.InvalidValue(path, "at least one visible character expected")
	}
	return nil
}

// Visible reports whether r shows as something on its own: a letter, digit,
// punctuation or symbol, and not one of the fillers that render as blank
// space (Hangul fillers, the blank Braille pattern). White space, combining
// marks and those fillers alone would make a text that looks empty, or
// looks like another text padded with nothing.
func Visible(r rune) bool {
	switch r {
	case '\u115f', '\u1160', '\u3164', '\uffa0', // Hangul (choseong, jungseong, compatibility, halfwidth) fillers
		'\u2800': // Braille pattern blank
		return false
	}
	return unicode.In(r, unicode.L, unicode.N, unicode.P, unicode.S)
}

// LongText validates free text such as a comment: at most max characters,
// control characters other than tab, newline and carriage return refused.
func LongText(s, path string, max int) error {
	if !utf8.ValidString(s) {
		return errors.InvalidValue(path, "invalid UTF-8")
	}
	if utf8.RuneCountInString(s) > max {
		return errors.InvalidValue(path, "at most "+strconv.Itoa(max)+" characters")
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return errors.InvalidValue(path, "control characters are not allowed")
		}
	}
	return nil
}

// Culture validates a culture key such as en-US or de-DE.
func Culture(s, path string) error {
	parts := strings.Split(s, "-")
	ok := len(parts[0]) >= 2 && len(parts[0]) <= 3 && isLowerLetters(parts[0])
	for _, p := range parts[1:] {
		ok = ok && len(p) >= 2 && len(p) <= 8 && isAlnum(p)
	}
	if !ok {
		return errors.InvalidValue(path, "culture expected, e.g. en-US")
	}
	return nil
}

func isLowerLetters(s string) bool {
	for _, r := range s {
		if r < 'a' || r > 'z' {
			return false
		}
	}
	return true
}

func isAlnum(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// MaxFrontendPrefs is the largest frontend_prefs of a group or user, in
// bytes of its JSON (compact, as stored). A client keeps its settings there
// (a few KiB at most); every write of the field is an audit event with its
// old and new value, so without a bound a user with no rights but its own
// frontend_prefs could grow the audit trail by 64 MiB a request.
const MaxFrontendPrefs = 64 << 10

// OptionalFrontendPrefs reads o's frontend_prefs (FrontendPrefs) when o
// has the key (set); null is set with no raw value.
func (o Object) OptionalFrontendPrefs() (raw json.RawMessage, set bool, err error) {
	const key = "frontend_prefs"
	if !o.Has(key) {
		return nil, false, nil
	}
	if v := o.M[key]; v != nil {
		raw, err = FrontendPrefs(v, o.At(key))
	}
	return raw, true, err
}

// FrontendPrefs reads a frontend_prefs value at path: an object of at most
// MaxFrontendPrefs bytes, returned as compact JSON.
func FrontendPrefs(v any, path string) (json.RawMessage, error) {
	if _, err := AsObject(v, path); err != nil {
		return nil, err
	}
	if err := StorableJSON(v, path); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, errors.InvalidValue(path, err.Error())
	}
	if len(raw) > MaxFrontendPrefs {
		return nil, errors.InvalidValue(path, "at most "+strconv.Itoa(MaxFrontendPrefs)+" bytes of JSON, got "+
			strconv.Itoa(len(raw))).With("limit", strconv.Itoa(MaxFrontendPrefs))
	}
	return raw, nil
}
