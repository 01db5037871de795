package session

import (
	"net/http"
	"testing"
	"time"
)

func TestClientAddress(t *testing.T) {
	for _, c := range []struct{ remote, header, value, want string }{
		{"192.0.2.1:5555", "", "", "192.0.2.1"},
		{"192.0.2.1:5555", "X-Forwarded-For", "", "192.0.2.1"},
		{"192.0.2.1:5555", "X-Forwarded-For", "203.0.113.5, 198.51.100.7", "198.51.100.7"},
		{"192.0.2.1:5555", "", "203.0.113.5", "192.0.2.1"}, // a header nobody configured counts for nothing
		{"[2001:db8:1:2:3:4:5:6]:80", "", "", "2001:db8:1:2::/64"},
		{"[::ffff:192.0.2.9]:80", "", "", "192.0.2.9"},
		{"192.0.2.1:5555", "X-Forwarded-For", "garbage", ""},
	} {
		r := &http.Request{RemoteAddr: c.remote, Header: http.Header{}}
		if c.value != "" {
			r.Header.Set("X-Forwarded-For", c.value)
		}
		if got := ClientAddress(r, c.header); got != c.want {
			t.Errorf("%+v: got %q", c, got)
		}
	}
}

// TestRateLimiter: a burst of limit, then limit per period; addresses are
// counted apart; full buckets are forgotten; beyond maxTracked, new
// addresses pass uncounted.
func TestRateLimiter(t *testing.T) {
	l := newRateLimiter(3, time.Minute, 2)
	now := time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)
	for i := range 3 {
		if ok, _ := l.allow("a", now); !ok {
			t.Fatalf("event %d refused", i)
		}
	}
	ok, next := l.allow("a", now)
	if ok || next != now.Add(20*time.Second) {
		t.Fatalf("4th event: %v, next %v", ok, next)
	}
	if ok, _ := l.allow("b", now); !ok {
		t.Fatal("another address refused")
	}
	if ok, _ := l.allow("a", now.Add(20*time.Second)); !ok {
		t.Fatal("refused after a token came back")
	}
	if ok, _ := l.allow("a", now.Add(21*time.Second)); ok {
		t.Fatal("admitted with no token")
	}
	// Two addresses tracked: a third passes uncounted.
	for range 10 {
		if ok, _ := l.allow("c", now.Add(21*time.Second)); !ok {
			t.Fatal("an untracked address refused")
		}
	}
	// A period later, every bucket is full again and forgotten.
	l.allow("d", now.Add(3*time.Minute))
	if len(l.buckets) != 1 {
		t.Fatalf("%d buckets after the sweep, want 1", len(l.buckets))
	}
}
