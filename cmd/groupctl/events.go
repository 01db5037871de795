package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/groupd/groupd/client"
)

// cmdEvents prints the audit trail newest first. The server answers events
// oldest first only (GET /api/v1/events?since=), so groupctl reads the
// matching events forward, a page at a time, keeps the newest --limit and
// prints them in reverse: reading costs one request per 1000 matching
// events, which --since (an event id) bounds on a long trail.
func (a *app) cmdEvents(args []string) error {
	fs := a.flags("events", "[flags]")
	limit := fs.Int("limit", 50, "print the newest N matching events (0: all)")
	typ := fs.String("type", "", "group, user or membership")
	group := fs.String("group", "", "only events of this group (id, reference or name) and its memberships")
	user := fs.String("user", "", "only events of this user (id, login or reference)")
	action := fs.String("action", "", "only this action: create, update, delete, add_member, remove_member")
	actor := fs.String("actor", "", "only events caused by this user (id, login or reference)")
	since := fs.Int64("since", 0, "only events with a greater id")
	a.outputFlags(fs)
	if _, err := a.parse(fs, args, 0, 0); err != nil {
		return err
	}
	if *limit < 0 || *since < 0 {
		return usagef("events: --limit and --since must not be negative")
	}
	if *group != "" && *user != "" {
		return usagef("events: --group or --user, not both")
	}
	switch *typ {
	case "", "group", "user", "membership":
	default:
		return usagef("events: --type must be group, user or membership")
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	f := client.EventFilter{Type: *typ, Since: *since, Limit: client.MaxPage}
	var objectID int64
	switch {
	case *group != "":
		g, err := a.resolveGroup(c, *group)
		if err != nil {
			return err
		}
		objectID = g.Group.ID
		if f.Type == "group" {
			f.ObjectID = objectID
		}
	case *user != "":
		u, err := a.resolveUser(c, *user)
		if err != nil {
			return err
		}
		objectID = u.User.ID
		if f.Type == "user" {
			f.ObjectID = objectID
		}
	}
	var actorID int64
	if *actor != "" {
		u, err := a.resolveUser(c, *actor)
		if err != nil {
			return err
		}
		actorID = u.User.ID
	}
	// A membership event's object is the group; a group's own events have
	// type group. --group without --type reads both kinds, so it filters
	// the object id here rather than on the server.
	keep := func(e *client.Event) bool {
		switch {
		case *action != "" && e.Action != *action,
			actorID != 0 && e.ActorUserID != actorID,
			*group != "" && (e.ObjectID != objectID || e.Type == "user"),
			*user != "" && (e.ObjectID != objectID || e.Type != "user"):
			return false
		}
		return true
	}
	var kept []client.Event // the newest *limit, oldest first
	for {
		page, err := c.Events(a.ctx, f)
		if err != nil {
			return err
		}
		for i := range page {
			if keep(&page[i]) {
				kept = append(kept, page[i])
				if *limit > 0 && len(kept) > 2**limit {
					kept = append(kept[:0], kept[len(kept)-*limit:]...)
				}
			}
		}
		if len(page) < client.MaxPage {
			break
		}
		f.Since = page[len(page)-1].ID
	}
	if *limit > 0 && len(kept) > *limit {
		kept = kept[len(kept)-*limit:]
	}
	for i, j := 0, len(kept)-1; i < j; i, j = i+1, j-1 {
		kept[i], kept[j] = kept[j], kept[i]
	}
	if a.structured() {
		if kept == nil {
			kept = []client.Event{}
		}
		return a.printData(kept)
	}
	header := []string{"ID", "TIME", "ACTOR", "TYPE", "OBJECT", "ACTION"}
	if a.wide() {
		header = append(header, "CHANGED")
	}
	t := a.newTable(header...)
	for _, e := range kept {
		row := []string{fmt.Sprint(e.ID), e.Timestamp, fmt.Sprint(e.ActorUserID), e.Type, fmt.Sprint(e.ObjectID), e.Action}
		if a.wide() {
			row = append(row, strings.Join(changedKeys(e.Before, e.After), ","))
		}
		t.row(row...)
	}
	return t.flush()
}

// changedKeys names the attributes an event changed: the keys of the item
// (and of its "group" or "user" object) whose values differ before and after.
func changedKeys(before, after json.RawMessage) []string {
	var b, a map[string]any
	if unmarshalPresent(before, &b) != nil || unmarshalPresent(after, &a) != nil {
		// Not an object before or after: no attributes to name, and the
		// table says so rather than naming none.
		return []string{"?"}
	}
	var out []string
	seen := map[string]bool{}
	var diff func(prefix string, x, y map[string]any)
	diff = func(prefix string, x, y map[string]any) {
		for _, m := range []map[string]any{x, y} {
			for k := range m {
				if seen[prefix+k] {
					continue
				}
				seen[prefix+k] = true
				xv, yv := x[k], y[k]
				xm, xok := xv.(map[string]any)
				ym, yok := yv.(map[string]any)
				if (k == "group" || k == "user") && xok && yok && prefix == "" {
					diff(k+".", xm, ym)
					continue
				}
				if !reflect.DeepEqual(xv, yv) && !strings.HasPrefix(k, "last_updated") && k != "_version" {
					out = append(out, prefix+k)
				}
			}
		}
	}
	diff("", b, a)
	sort.Strings(out)
	return out
}
