package input_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/groupd/groupd/db/dbtest"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/input"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// FuzzSQLParameters: the functions that turn client strings into SQL
// parameters (query filters, names and texts, jsonb values, timestamps)
// accept only what PostgreSQL holds exactly, and refuse the rest with a
// typed error.api.invalid_value naming the parameter. Where a database is at
// hand (the seed corpus, run by `make test`), every accepted value goes
// through PostgreSQL as a parameter and must come back byte for byte; a
// fuzzing worker has none (dbtest) and checks PostgreSQL's rules instead:
// text is valid UTF-8 without NUL, jsonb holds no \u0000, timestamptz
// keeps microseconds.
func FuzzSQLParameters(f *testing.F) {
	for _, s := range []string{
		"", "a", "editors", "%_\\", "'; DROP TABLE groups; --", "\x00", "a\x00b", "\xff", "\xed\xa0\x80", "é",
		"\u3164", "\u2800x", " ", "\u202e", strings.Repeat("x", 257), `{"a\u0000":1}`, `{"k":"\u0000"}`, `["\ud800"]`,
		`{"k":[1,{"l":"v"}]}`, "2026-01-01T00:00:00.1234567Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59",
		"2026-01-01T00:00:00+24:00", "0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59.999999Z",
	} {
		f.Add(s)
	}
	var pg *sql.DB
	if dbtest.Cluster() != nil {
		pg = dbtest.MustOpenDB(f).DB
	}
	f.Fuzz(func(t *testing.T, s string) {
		storable := utf8.ValidString(s) && !strings.Contains(s, "\x00")
		if input.Storable(s) != storable {
			t.Fatalf("Storable(%q) = %v", s, !storable)
		}
		// A query parameter.
		got, err := input.Query(url.Values{"p": {s}}, "p", input.MaxFilterLength)
		short := utf8.RuneCountInString(s) <= input.MaxFilterLength
		switch {
		case err != nil:
			mustInvalid(t, err, "p")
			if storable && short {
				t.Fatalf("Query refused %q: %v", s, err)
			}
		case got != s || !storable || !short:
			t.Fatalf("Query accepted %q as %q", s, got)
		default:
			roundTrip(t, pg, `SELECT $1::text`, s, s)
		}
		// Names and free text.
		for _, check := range []func(string, string, int) error{input.Text, input.LongText} {
			if checkErr := check(s, "p", 1024); checkErr != nil {
				mustInvalid(t, checkErr, "p")
			} else if !storable {
				t.Fatalf("a text check accepted %q", s)
			} else {
				roundTrip(t, pg, `SELECT $1::text`, s, s)
			}
		}
		// A jsonb value: s as JSON, else as a string in an object, and as a key.
		var v any
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		if dec.Decode(&v) != nil || dec.More() {
			v = map[string]any{"k": s, s: []any{s}}
		}
		if storableJSONErr := input.StorableJSON(v, "p"); storableJSONErr != nil {
			mustInvalid(t, storableJSONErr, "p")
		} else {
			b, marshalErr := json.Marshal(v)
			if marshalErr != nil {
				return // numbers beyond float64 are web.checkRange's to refuse
			}
			if hasNUL(v) {
				t.Fatalf("StorableJSON accepted %s", b)
			}
			if pg != nil {
				var back string
				if scanErr := pg.QueryRowContext(context.Background(), `SELECT $1::jsonb::text`, string(b)).Scan(&back); scanErr != nil {
					t.Fatalf("PostgreSQL refused accepted jsonb %s: %v", b, scanErr)
				}
				var x, y any
				json.Unmarshal(b, &x)
				json.Unmarshal([]byte(back), &y)
				if xb, _ := json.Marshal(x); string(xb) != mustMarshal(y) {
					t.Fatalf("jsonb %s came back as %s", b, back)
				}
			}
		}
		// A timestamp: in range, to the microsecond, and written back as read.
		ts, err := input.Timestamp(s, "p")
		if err != nil {
			mustInvalid(t, err, "p")
			return
		}
		if ts.Before(input.MinTimestamp) || ts.After(input.MaxTimestamp) || ts.Nanosecond()%1000 != 0 {
			t.Fatalf("Timestamp(%q) accepted %v", s, ts)
		}
		text := ts.Format(input.TimestampFormat)
		again, err := input.Timestamp(text, "p")
		if err != nil || !again.Equal(ts) {
			t.Fatalf("Timestamp(%q) = %s, which reads back as %v (%v)", s, text, again, err)
		}
		if pg != nil {
			var back time.Time
			if err := pg.QueryRowContext(context.Background(), `SELECT $1::timestamptz`, ts).Scan(&back); err != nil {
				t.Fatalf("PostgreSQL refused accepted timestamp %q: %v", s, err)
			}
			if !back.Equal(ts) {
				t.Fatalf("timestamp %q stored as %v, read as %v", s, ts, back)
			}
		}
	})
}

// mustInvalid: err is error.api.invalid_value naming param or a path in it.
func mustInvalid(t *testing.T, err error, param string) {
	t.Helper()
	var e *errors.Error
	at := ""
	if errors.As(err, &e) {
		at = e.Parameters["attribute"]
	}
	if e == nil || e.Code != "error.api.invalid_value" || at != param && !strings.HasPrefix(at, param+".") && !strings.HasPrefix(at, param+"[") {
		t.Fatalf("want error.api.invalid_value naming %s, got %#v", param, err)
	}
}

// roundTrip sends s through PostgreSQL as a parameter of query and wants
// want back, when there is a database.
func roundTrip(t *testing.T, pg *sql.DB, query, s, want string) {
	t.Helper()
	if pg == nil {
		return
	}
	var back string
	if err := pg.QueryRowContext(context.Background(), query, s).Scan(&back); err != nil {
		t.Fatalf("PostgreSQL refused accepted %q: %v", s, err)
	}
	if back != want {
		t.Fatalf("%q came back as %q", s, back)
	}
}

func mustMarshal(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// hasNUL reports whether a string or key in v holds NUL.
func hasNUL(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.Contains(x, "\x00")
	case []any:
		for _, e := range x {
			if hasNUL(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range x {
			if strings.Contains(k, "\x00") || hasNUL(e) {
				return true
			}
		}
	}
	return false
}
