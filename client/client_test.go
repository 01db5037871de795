package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
)

// TestAllGroupsParallel: pages read concurrently come back complete and in
// order (run under -race: the filter is not shared between the readers).
func TestAllGroupsParallel(t *testing.T) {
	const total = 3500
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		lim, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		if r.URL.Query().Get("name") != "x" {
			http.Error(w, `{"realm":"api","code":"error.api.invalid_value"}`, 400)
			return
		}
		var page []Group
		for i := off; i < min(off+lim, total); i++ {
			page = append(page, Group{Group: GroupBody{ID: int64(i + 1)}})
		}
		w.Header().Set("X-Total-Count", strconv.Itoa(total))
		_ = json.NewEncoder(w).Encode(page)
	}))
	defer srv.Close()
	c := New(srv.URL, "t")
	c.Parallel = 3
	gs, err := c.AllGroups(context.Background(), GroupFilter{Name: "x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != total || requests.Load() != 4 {
		t.Fatalf("%d groups in %d requests", len(gs), requests.Load())
	}
	for i, g := range gs {
		if g.Group.ID != int64(i+1) {
			t.Fatalf("group %d has id %d", i, g.Group.ID)
		}
	}
}

func TestErrorText(t *testing.T) {
	e := &Error{Code: "error.user.version_mismatch", Parameters: map[string]string{"provided": "3", "expected": "2"},
		Description: "stale"}
	if s := e.Error(); s != "error.user.version_mismatch (expected=2, provided=3): stale" {
		t.Fatal(s)
	}
	if (&Error{Parameters: map[string]string{"index": "7"}}).Index() != 7 || (&Error{}).Index() != -1 {
		t.Fatal("index")
	}
}
