package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
)

// The grouped objects' scenarios (package object, issue 17): moving 10^4
// objects into a group in one request, and paging through a group of 10^5
// objects.

const (
	moveObjects  = 10000
	groupObjects = 100000
	// objectsPerPut is the objects of one dataset PUT.
	objectsPerPut = 10000
)

// putObjects creates n objects of kind in group (0: none) through the API,
// objectsPerPut per request, and returns their ids.
func (b *bench) putObjects(kind string, n int, group int64) ([]int64, error) {
	client := newClient(1)
	var ids []int64
	grp := "null"
	if group != 0 {
		grp = fmt.Sprintf(`{"_id":%d}`, group)
	}
	for done := 0; done < n; done += objectsPerPut {
		var body strings.Builder
		body.WriteByte('[')
		for i := done; i < min(n, done+objectsPerPut); i++ {
			if i > done {
				body.WriteByte(',')
			}
			fmt.Fprintf(&body, `{"object":{"kind":%q,"name":"%s %d-%d","attributes":{"n":%d}},"_group":%s}`,
				kind, kind, b.runID, i, i, grp)
		}
		body.WriteByte(']')
		resp, err := client.Do(withBody(http.MethodPut, b.base+"/api/v1/object", []byte(body.String()), "x-easydb-token", b.rootTok))
		if err != nil {
			return nil, err
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return nil, fmt.Errorf("PUT objects: %d %.300s", resp.StatusCode, raw)
		}
		var out []struct {
			Object struct {
				ID int64 `json:"_id"`
			} `json:"object"`
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			return nil, err
		}
		for _, o := range out {
			ids = append(ids, o.Object.ID)
		}
	}
	return ids, nil
}

// 7. POST /api/v1/group/<id>/objects moving 10^4 objects from one group to
// another in one request (one UPDATE, an audit event per object); floor: the
// bare UPDATE of the same rows. Rounds as scenario 3; the medians are
// compared.
func (b *bench) objectMove() error {
	from, to := b.allIDs[len(b.allIDs)-1], b.allIDs[len(b.allIDs)-2]
	ids, err := b.putObjects("bench.move", moveObjects, from)
	if err != nil {
		return err
	}
	idList := make([]string, len(ids))
	for i, id := range ids {
		idList[i] = strconv.FormatInt(id, 10)
	}
	client := newClient(1)
	var moves, updates []time.Duration
	for round := 0; round < b.sc.PutRounds; round++ {
		body := []byte(`{"add":[` + strings.Join(idList, ",") + `]}`)
		t0 := time.Now()
		resp, err := client.Do(withBody(http.MethodPost, fmt.Sprintf("%s/api/v1/group/%d/objects", b.base, to), body,
			"x-easydb-token", b.rootTok))
		if err != nil {
			return err
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		moves = append(moves, time.Since(t0))
		if resp.StatusCode != 200 {
			return fmt.Errorf("move: %d %.300s", resp.StatusCode, raw)
		}
		// the floor moves them back
		t0 = time.Now()
		if _, err := b.db.Exec(`UPDATE objects SET group_id = $2, version = version + 1, updated_at = now()
			WHERE id = ANY($1)`, pq.Array(ids), from); err != nil {
			return err
		}
		updates = append(updates, time.Since(t0))
	}
	med := func(ds []time.Duration) time.Duration {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[len(ds)/2]
	}
	m, u := med(moves), med(updates)
	return b.add(row{Scenario: "7. POST /group/<id>/objects moving 10,000 objects (one request)",
		Groupd:    result{Requests: moveObjects, Elapsed: m, P50: m, P99: m},
		Floor:     result{Requests: moveObjects, Elapsed: u, P50: u, P99: u},
		FloorName: "UPDATE objects SET group_id ... WHERE id = ANY($1), the same 10,000 rows",
		Note:      "throughput in objects/s; latency is the whole request, with an audit event per object"})
}

// 8. GET /api/v1/group/<id>/objects?limit=1000, first and deep page, of a
// group of 10^5 objects, as the reader (who may read the group: the
// visibility in SQL is exercised); floor: the same rows by a bare SELECT
// ... ORDER BY id LIMIT OFFSET.
func (b *bench) objectList() error {
	group := b.visible[0]
	if _, err := b.putObjects("bench.list", groupObjects, group); err != nil {
		return err
	}
	client := newClient(4)
	for _, c := range []struct {
		name   string
		offset int
	}{
		{"8a. list a group's objects (10^5), first page, reader", 0},
		{"8b. list a group's objects (10^5), deep page, reader", groupObjects - 1000},
	} {
		g := run(client, 4, 0, b.sc.Window, func(w, i int) (*http.Request, error) {
			return get(fmt.Sprintf("%s/api/v1/group/%d/objects?limit=1000&offset=%d", b.base, group, c.offset),
				"x-easydb-token", b.readTok), nil
		})
		f := run(client, 4, 0, b.sc.Window, func(w, i int) (*http.Request, error) {
			return get(fmt.Sprintf("%s/objects?group=%d&limit=1000&offset=%d", b.floor.url, group, c.offset)), nil
		})
		if err := b.add(row{Scenario: c.name, Groupd: g, Floor: f,
			FloorName: "SELECT ... FROM objects WHERE group_id = $1 ORDER BY id LIMIT 1000 OFFSET n"}); err != nil {
			return err
		}
	}
	return nil
}

// objectFloor serves GET /objects?group=&limit=&offset= on the floor
// server: scenario 8's page by one plain SELECT, encoded as JSON.
func objectFloor(db *sql.DB) http.HandlerFunc {
	type floorObject struct {
		ID         int64           `json:"_id"`
		Version    int64           `json:"_version"`
		Kind       string          `json:"kind"`
		Name       string          `json:"name"`
		Reference  *string         `json:"reference"`
		Attributes json.RawMessage `json:"attributes"`
		GroupID    int64           `json:"group"`
		Created    time.Time       `json:"created"`
		Updated    time.Time       `json:"updated"`
	}
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		rows, err := db.QueryContext(r.Context(), `SELECT id, version, kind, name, reference, attributes::text, group_id,
			created_at, updated_at FROM objects WHERE group_id = $1 ORDER BY id LIMIT $2 OFFSET $3`,
			q.Get("group"), q.Get("limit"), q.Get("offset"))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer rows.Close()
		var out []floorObject
		for rows.Next() {
			var o floorObject
			var attrs string
			if err := rows.Scan(&o.ID, &o.Version, &o.Kind, &o.Name, &o.Reference, &attrs, &o.GroupID, &o.Created,
				&o.Updated); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			o.Attributes = json.RawMessage(attrs)
			out = append(out, o)
		}
		json.NewEncoder(w).Encode(out)
	}
}
