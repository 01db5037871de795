package passwords

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestHashPasswordFormat(t *testing.T) {
	phc, err := Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=65536,t=1,p=2\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !re.MatchString(phc) {
		t.Fatalf("not a PHC string with the default parameters: %s", phc)
	}
	again, _ := Hash("correct horse")
	if again == phc {
		t.Fatal("two hashes of one password are equal: no random salt")
	}
	if !Check(phc, "correct horse") || !Check(again, "correct horse") {
		t.Fatal("the right password does not match")
	}
	for _, wrong := range []string{"", "correct horsE", "correct horse ", "correct"} {
		if Check(phc, wrong) {
			t.Fatalf("%q matches", wrong)
		}
	}
}

func TestCheckPasswordMalformed(t *testing.T) {
	good, _ := Hash("pw")
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
		if Check(phc, "pw") {
			t.Errorf("%s: %q matches", name, phc)
		}
	}
}

// TestStoredParamsWin: a hash keeps verifying with the parameters written
// into it after the defaults change, and the dummy hash follows the
// parameters so that unknown logins keep costing what real ones cost.
func TestStoredParamsWin(t *testing.T) {
	restore := sethashParams(hashParams{Memory: 64, Time: 2, Threads: 1})
	cheap, _ := Hash("pw")
	cheapDummy := dummy.get()
	restore()
	if !strings.Contains(cheap, "$m=64,t=2,p=1$") || !strings.Contains(cheapDummy, "$m=64,t=2,p=1$") {
		t.Fatalf("parameters not used: %s / %s", cheap, cheapDummy)
	}
	if !Check(cheap, "pw") {
		t.Fatal("a hash with other parameters does not verify after the defaults changed back")
	}
	if d := dummy.get(); !strings.Contains(d, "$m=65536,t=1,p=2$") {
		t.Fatalf("dummy hash not rebuilt with the defaults: %s", d)
	}
}

func TestCheckOrDummy(t *testing.T) {
	check := func(phc, pw string) bool {
		t.Helper()
		ok, err := CheckOrDummy(context.Background(), phc, pw)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	phc, _ := Hash("pw")
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
	_, err := CheckOrDummy(ctx, phc, "pw")
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

// sethashParams replaces the parameters of new hashes (and of the dummy
// hash) and returns a function that restores them.
func sethashParams(p hashParams) (restore func()) {
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

// TestCheckLength: the length rule counts characters, not bytes.
func TestCheckLength(t *testing.T) {
	if err := CheckLength("password", "äöü", 3); err != nil {
		t.Errorf("three characters refused: %v", err)
	}
	if err := CheckLength("password", "ab", 3); err == nil || !strings.Contains(err.Error(), "password") {
		t.Errorf("two characters: %v", err)
	}
}
