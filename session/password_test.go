package session

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/groupd/groupd/errors"
)

func TestHashPasswordFormat(t *testing.T) {
	phc, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=65536,t=1,p=2\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !re.MatchString(phc) {
		t.Fatalf("not a PHC string with the default parameters: %s", phc)
	}
	again, _ := HashPassword("correct horse")
	if again == phc {
		t.Fatal("two hashes of one password are equal: no random salt")
	}
	if !CheckPassword(phc, "correct horse") || !CheckPassword(again, "correct horse") {
		t.Fatal("the right password does not match")
	}
	for _, wrong := range []string{"", "correct horsE", "correct horse ", "correct"} {
		if CheckPassword(phc, wrong) {
			t.Fatalf("%q matches", wrong)
		}
	}
}

func TestCheckPasswordMalformed(t *testing.T) {
	good, _ := HashPassword("pw")
	parts := strings.Split(good, "$")
	for name, phc := range map[string]string{
		"empty":        "",
		"bcrypt":       "$2a$10$abcdefghijklmnopqrstuu",
		"argon2i":      strings.Replace(good, "argon2id", "argon2i", 1),
		"version 16":   strings.Replace(good, "v=19", "v=16", 1),
		"no params":    strings.Join([]string{"", parts[1], parts[2], "", parts[4], parts[5]}, "$"),
		"huge memory":  strings.Replace(good, "m=65536", "m=4294967295", 1),
		"zero time":    strings.Replace(good, "t=1", "t=0", 1),
		"bad salt":     strings.Join([]string{"", parts[1], parts[2], parts[3], "!!", parts[5]}, "$"),
		"short key":    strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "AAAA"}, "$"),
		"extra fields": good + "$x",
	} {
		if CheckPassword(phc, "pw") {
			t.Errorf("%s: %q matches", name, phc)
		}
	}
}

// TestStoredParamsWin: a hash keeps verifying with the parameters written
// into it after the defaults change, and the dummy hash follows the
// parameters so that unknown logins keep costing what real ones cost.
func TestStoredParamsWin(t *testing.T) {
	restore := setPasswordParams(PasswordParams{Memory: 64, Time: 2, Threads: 1})
	cheap, _ := HashPassword("pw")
	cheapDummy := dummy.get()
	restore()
	if !strings.Contains(cheap, "$m=64,t=2,p=1$") || !strings.Contains(cheapDummy, "$m=64,t=2,p=1$") {
		t.Fatalf("parameters not used: %s / %s", cheap, cheapDummy)
	}
	if !CheckPassword(cheap, "pw") {
		t.Fatal("a hash with other parameters does not verify after the defaults changed back")
	}
	if d := dummy.get(); !strings.Contains(d, "$m=65536,t=1,p=2$") {
		t.Fatalf("dummy hash not rebuilt with the defaults: %s", d)
	}
}

func TestCheckOrDummy(t *testing.T) {
	check := func(phc, pw string) bool {
		t.Helper()
		ok, err := checkOrDummy(context.Background(), phc, pw)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	phc, _ := HashPassword("pw")
	if !check(phc, "pw") || check(phc, "x") {
		t.Fatal("real hash")
	}
	// No hash (unknown user, or a user without password): always false,
	// after as much work as a real check (medians, interleaved).
	if check("", "pw") || check("garbage", "pw") {
		t.Fatal("no hash must never match")
	}
	// A caller that gives up while every hash slot is taken gets its
	// context's error, not an answer.
	for range cap(hashSlots) {
		hashSlots <- struct{}{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := checkOrDummy(ctx, phc, "pw")
	for range cap(hashSlots) {
		<-hashSlots
	}
	if err != context.Canceled {
		t.Fatalf("cancelled while waiting for a slot: %v", err)
	}
	var real, fake []time.Duration
	for range 5 {
		start := time.Now()
		check(phc, "x")
		real = append(real, time.Since(start))
		start = time.Now()
		check("", "x")
		fake = append(fake, time.Since(start))
	}
	slices.Sort(real)
	slices.Sort(fake)
	if fake[2] < real[2]/2 {
		t.Fatalf("a check without a hash takes %v, a real one %v", fake[2], real[2])
	}
}

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

// setPasswordParams replaces the parameters of new hashes (and of the dummy
// hash) and returns a function that restores them.
func setPasswordParams(p PasswordParams) (restore func()) {
	paramsMu.Lock()
	old := params
	params = p
	paramsMu.Unlock()
	dummy.reset()
	return func() {
		paramsMu.Lock()
		params = old
		paramsMu.Unlock()
		dummy.reset()
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
