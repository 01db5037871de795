package session

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/groupd/groupd/errors"
)

func TestTokens(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok, err := newToken()
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) != tokenLen || seen[tok] {
			t.Fatalf("token %q: wrong length or repeated", tok)
		}
		seen[tok] = true
		if _, ok := hashToken(tok); !ok {
			t.Fatalf("own token %q refused", tok)
		}
	}
	for _, bad := range []string{"", "short", strings.Repeat("A", 42), strings.Repeat("A", 44),
		strings.Repeat("A", 42) + "=", strings.Repeat("A", 42) + "+"} {
		if _, ok := hashToken(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSmallHelpers(t *testing.T) {
	for l, ok := range map[string]bool{"en-US": true, "de": true, "de-DE": true, "zh-Hant-TW": true, "sr-Latn": true,
		"": false, "e": false, "en_US": false, "<script>": false, "en-": false, "english-US": false, "1n-US": false} {
		if validLanguage(l) != ok {
			t.Errorf("validLanguage(%q) = %v", l, !ok)
		}
	}
	for list, want := range map[string]string{"": "easydb", "easydb": "easydb", "easydb, easydb": "easydb",
		"ldap": "!ldap", "easydb,task": "!task", "easydb,": "!"} {
		got, err := chooseMethod(list)
		var e *errors.Error
		if errors.As(err, &e) && e.Code == "error.user.authentication_method_not_allowed" {
			got = "!" + e.Parameters["method"]
		}
		if got != want {
			t.Errorf("chooseMethod(%q) = %q, want %q", list, got, want)
		}
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	if got := formatUntil(at); got != "2026-01-02T02:04:05Z" {
		t.Errorf("formatUntil exact second: %s", got)
	}
	if got := formatUntil(at.Add(time.Millisecond)); got != "2026-01-02T02:04:06Z" {
		t.Errorf("formatUntil must round up: %s", got)
	}
}

func TestSessionNeverPrintsToken(t *testing.T) {
	s := &Session{ID: 7, UserID: 3, Token: "secret-token"}
	var buf strings.Builder
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", slog.Any("session", s))
	for _, out := range []string{buf.String(), fmt.Sprint(s), fmt.Sprintf("%v %+v %s", s, s, s)} {
		if strings.Contains(out, "secret-token") {
			t.Fatalf("token printed: %s", out)
		}
	}
}
