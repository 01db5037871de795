package session

import (
	"encoding/hex"
	"log/slog"
	"slices"
	"sync"
	"testing"

	"github.com/groupd/groupd/policy"
)

func TestCacheEpoch(t *testing.T) {
	c := newCache[int64, string](10)
	c.SetEnabled(true)

	e := c.Epoch()
	if !c.Put(1, "one", e) {
		t.Fatal("put refused")
	}
	if v, ok := c.Get(1); !ok || v != "one" {
		t.Fatalf("get: %q %v", v, ok)
	}

	// A load that began before an invalidation must not be stored, even
	// when the invalidation was about another key: the loader cannot know.
	e = c.Epoch()
	c.Drop(2)
	if c.Put(3, "stale", e) {
		t.Fatal("a value loaded before an invalidation was stored")
	}
	if _, ok := c.Get(3); ok {
		t.Fatal("stale value visible")
	}
	if _, ok := c.Get(1); !ok {
		t.Fatal("Drop(2) dropped 1")
	}

	e = c.Epoch()
	c.DropIf(func(k int64, _ string) bool { return k == 1 })
	if _, ok := c.Get(1); ok || c.Put(1, "stale", e) {
		t.Fatal("DropIf")
	}
	e = c.Epoch()
	c.Put(1, "one", e)
	c.Clear()
	if c.Len() != 0 || c.Put(1, "stale", e) {
		t.Fatal("Clear")
	}
}

func TestCacheDisabled(t *testing.T) {
	c := newCache[int64, string](10)
	if c.Put(1, "x", c.Epoch()) {
		t.Fatal("a new cache stores before it is enabled (before the listener listens)")
	}
	c.SetEnabled(true)
	c.Put(1, "x", c.Epoch())
	e := c.Epoch()
	c.SetEnabled(false) // the listener lost its connection
	if _, ok := c.Get(1); ok || c.Put(2, "y", e) || c.Put(2, "y", c.Epoch()) {
		t.Fatal("a disabled cache serves or stores")
	}
	c.SetEnabled(true)
	if _, ok := c.Get(1); ok {
		t.Fatal("re-enabled cache kept entries from before the outage")
	}
}

func TestCacheBounded(t *testing.T) {
	c := newCache[int, int](100)
	c.SetEnabled(true)
	for i := range 1000 {
		c.Put(i, i, c.Epoch())
	}
	if c.Len() != 100 {
		t.Fatalf("len %d, want 100", c.Len())
	}
	if _, ok := c.Get(999); !ok {
		t.Fatal("the newest entry was evicted")
	}
}

func TestCacheConcurrent(t *testing.T) {
	c := newCache[int, int](50)
	c.SetEnabled(true)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				switch i % 4 {
				case 0:
					c.Put(i%60, g, c.Epoch())
				case 1:
					c.Get(i % 60)
				case 2:
					c.Drop(i % 60)
				default:
					c.DropIf(func(k, v int) bool { return v == g })
				}
			}
		}()
	}
	wg.Wait()
}

// TestApplyNotifications: what each payload drops.
func TestApplyNotifications(t *testing.T) {
	s := &Service{
		log:        slog.New(slog.DiscardHandler),
		sessions:   newCache[[tokenHashLen]byte, *sessionRow](100),
		principals: newCache[int64, *identity](100),
		apiTokens:  newCache[[tokenHashLen]byte, *apiTokenRow](100),
		scoped:     newCache[int64, *scopedEntry](100),
	}
	s.setCaching(true)
	fill := func() {
		s.dropAll()
		for uid, groups := range map[int64][]int64{10: {100}, 11: {101}, 12: nil} {
			p := &policy.Principal{UserID: uid, Groups: groups, SystemGroups: policy.SystemGroupsFor("easydb")}
			s.principals.Put(uid, &identity{principal: p}, s.principals.Epoch())
			s.sessions.Put([tokenHashLen]byte{byte(uid)}, &sessionRow{userID: uid, hash: [tokenHashLen]byte{byte(uid)}},
				s.sessions.Epoch())
			row := &apiTokenRow{hash: [tokenHashLen]byte{byte(uid)}}
			row.UserID = uid
			s.apiTokens.Put(row.hash, row, s.apiTokens.Epoch())
		}
	}
	principals := func() (ids []int64) {
		for _, id := range []int64{10, 11, 12} {
			if _, ok := s.principals.Get(id); ok {
				ids = append(ids, id)
			}
		}
		return ids
	}
	sessions := func() (ids []int64) {
		for _, id := range []int64{10, 11, 12} {
			if _, ok := s.sessions.Get([tokenHashLen]byte{byte(id)}); ok {
				ids = append(ids, id)
			}
		}
		return ids
	}
	// API tokens are dropped as sessions are: by user (s:) and by hash (t:).
	apiTokens := func() (ids []int64) {
		for _, id := range []int64{10, 11, 12} {
			if _, ok := s.apiTokens.Get([tokenHashLen]byte{byte(id)}); ok {
				ids = append(ids, id)
			}
		}
		return ids
	}
	h10 := [tokenHashLen]byte{10}
	hex10 := hex.EncodeToString(h10[:])
	for _, c := range []struct {
		payload              string
		principals, sessions []int64
	}{
		{"u:10,12", []int64{11}, []int64{10, 11, 12}},
		{"g:101", []int64{10, 12}, []int64{10, 11, 12}},
		{"g:1", nil, []int64{10, 11, 12}}, // :all: everybody
		{"s:11", []int64{10, 11, 12}, []int64{10, 12}},
		{"t:" + hex10, []int64{10, 11, 12}, []int64{11, 12}},
		{"*", nil, nil},
		{"u:x", nil, nil},   // not understood: everything
		{"t:zz", nil, nil},  // not understood: everything
		{"what?", nil, nil}, // not understood: everything
		{"u:10", []int64{11, 12}, []int64{10, 11, 12}},
	} {
		fill()
		s.apply(c.payload)
		if got := principals(); !slices.Equal(got, c.principals) {
			t.Errorf("%s: principals left %v, want %v", c.payload, got, c.principals)
		}
		if got := sessions(); !slices.Equal(got, c.sessions) {
			t.Errorf("%s: sessions left %v, want %v", c.payload, got, c.sessions)
		}
		if got := apiTokens(); !slices.Equal(got, c.sessions) {
			t.Errorf("%s: API tokens left %v, want %v", c.payload, got, c.sessions)
		}
	}
}
