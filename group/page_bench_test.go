package group

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/db/dbtest"
	"github.com/groupd/groupd/policy"
	"github.com/lib/pq"
)

// pageWorld is groupbench's small dataset: 1,000 users and 1,000 groups
// (ids 10000...) with 10 ACL entries each; every tenth group's first entry
// gives group 2000, whose only member is the reader (user 1000),
// bag_write; the others give users bag_read. It returns the reader and the
// ids of the groups it sees, as groupbench hands them to its floor.
func pageWorld(t testing.TB, d *db.DB) (*Store, *policy.Principal, []int64) {
	t.Helper()
	store := testStore(t, d,
		`INSERT INTO users (id, login, type, system_rights) VALUES (1000, 'reader', 'easydb', '{"system.group": {}}')`,
		`INSERT INTO users (id, login, type, first_name, last_name)
			SELECT i, 'user' || i, 'easydb', 'First', 'Last ' || i FROM generate_series(1001, 1999) i`,
		`INSERT INTO groups (id, name, type, owner_user_id) VALUES (2000, 'readers', 'easydb', 1)`,
		`INSERT INTO memberships (group_id, user_id) VALUES (2000, 1000)`,
		`INSERT INTO groups (id, name, reference, displayname, type, owner_user_id)
			SELECT i, 'bench-' || i, 'bench-ref-' || i,
				jsonb_build_object('en-US', 'bench group ' || i, 'de-DE', 'bench Gruppe ' || i), 'easydb', 1
			FROM generate_series(10000, 10999) i`,
		`INSERT INTO group_displaynames (group_id, culture, value)
			SELECT id, d.key, d.value FROM groups g, jsonb_each_text(g.displayname) d WHERE g.id >= 10000`,
		`INSERT INTO group_acl (group_id, position, who_user_id, who_group_id, rights, mask, active)
			SELECT g, pos,
				CASE WHEN pos = 0 AND g % 10 = 0 THEN NULL ELSE 1001 + (g * 7919 + pos * 104729) % 999 END,
				CASE WHEN pos = 0 AND g % 10 = 0 THEN 2000 END,
				CASE WHEN pos = 0 AND g % 10 = 0 THEN '{"bag_write": {}}'::jsonb ELSE '{"bag_read": {}}'::jsonb END,
				CASE WHEN pos = 0 AND g % 10 = 0 THEN 3 ELSE 1 END, true
			FROM generate_series(10000, 10999) g, generate_series(0, 9) pos`,
		`ANALYZE`,
	)
	p := groupMember1000()
	var visible []int64
	for id := int64(10000); id < 11000; id += 10 {
		visible = append(visible, id)
	}
	return store, p, append(visible, 2000)
}

// floorPage is groupbench's floor of a reader's page (cmd/groupbench,
// GET /groups?visible=1): handed the visible ids, the page's rows by one
// SELECT, their ACL rows by a second, encoded by encoding/json.
func floorPage(ctx context.Context, d *db.DB, visible []int64, limit, offset int) ([]byte, error) {
	rows, err := d.QueryContext(ctx, `SELECT id, version, type, name, displayname, reference, COALESCE(owner_user_id, 0)
		FROM groups WHERE id = ANY($3) ORDER BY id LIMIT $1 OFFSET $2`, limit, offset, pq.Array(visible))
	if err != nil {
		return nil, err
	}
	type group struct {
		ID          int64           `json:"_id"`
		Version     int64           `json:"_version"`
		Type        string          `json:"type"`
		Name        *string         `json:"name"`
		Displayname json.RawMessage `json:"displayname"`
		Reference   *string         `json:"reference"`
		Owner       int64           `json:"owner"`
	}
	gs, err := db.Collect(rows, func(r *sql.Rows) (group, error) {
		var g group
		var dn []byte
		scanErr := r.Scan(&g.ID, &g.Version, &g.Type, &g.Name, &dn, &g.Reference, &g.Owner)
		g.Displayname = dn
		return g, scanErr
	})
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(gs))
	for i, g := range gs {
		ids[i] = g.ID
	}
	type aclRow struct {
		GroupID   int64           `json:"group_id"`
		ID        int64           `json:"_id"`
		WhoUser   *int64          `json:"who_user"`
		WhoGroup  *int64          `json:"who_group"`
		Rights    json.RawMessage `json:"rights"`
		Active    bool            `json:"active"`
		CreatedAt time.Time       `json:"date_created"`
	}
	rows, err = d.QueryContext(ctx, `SELECT group_id, id, who_user_id, who_group_id, rights::text, active,
		created_at FROM group_acl WHERE group_id = ANY($1) ORDER BY group_id, position`, pq.Array(ids))
	if err != nil {
		return nil, err
	}
	acl, err := db.Collect(rows, func(r *sql.Rows) (aclRow, error) {
		var a aclRow
		var rs string
		scanErr := r.Scan(&a.GroupID, &a.ID, &a.WhoUser, &a.WhoGroup, &rs, &a.Active, &a.CreatedAt)
		a.Rights = json.RawMessage(rs)
		return a, scanErr
	})
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"groups": gs, "acl": acl})
}

// BenchmarkReaderPage: a reader's page of 100 (GET /api/v1/group?limit=100
// as groupbench's reader, who sees 10% of 1,000 groups with 10 ACL entries
// each): List and the list handler's writePage, then groupbench's floor of
// it, in turn, each timed on its own so that a shared machine's load falls
// on both alike. <name>-p50-ns is each one's median, list/floor the ratio,
// <name>-allocs and <name>-B its allocations per page.
func BenchmarkReaderPage(b *testing.B) {
	d := dbtest.MustOpenDB(b)
	store, p, visible := pageWorld(b, d)
	ctx := context.Background()
	offsets := []int{0, 1}
	variants := []struct {
		name string
		page func(offset int) error
	}{
		{"list", func(offset int) error {
			groups, _, err := store.List(ctx, p, Filter{Limit: 100, Offset: offset})
			if err != nil {
				return err
			}
			return writePage(discard{}, groups)
		}},
		{"floor", func(offset int) error {
			_, err := floorPage(ctx, d, visible, 100, offset)
			return err
		}},
	}
	times := make([][]time.Duration, len(variants))
	allocs, bytes := make([]uint64, len(variants)), make([]uint64, len(variants))
	var before, after runtime.MemStats
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k := range variants {
			v := (i + k) % len(variants)
			runtime.ReadMemStats(&before)
			t0 := time.Now()
			if err := variants[v].page(offsets[i%len(offsets)]); err != nil {
				b.Fatal(err)
			}
			times[v] = append(times[v], time.Since(t0))
			runtime.ReadMemStats(&after)
			allocs[v] += after.Mallocs - before.Mallocs
			bytes[v] += after.TotalAlloc - before.TotalAlloc
		}
	}
	b.StopTimer()
	median := func(ds []time.Duration) float64 {
		slices.Sort(ds)
		return float64(ds[len(ds)/2])
	}
	floor := median(times[len(variants)-1])
	for v, c := range variants {
		m := median(times[v])
		b.ReportMetric(m, c.name+"-p50-ns")
		b.ReportMetric(float64(allocs[v])/float64(b.N), c.name+"-allocs")
		b.ReportMetric(float64(bytes[v])/float64(b.N), c.name+"-B")
		if v < len(variants)-1 {
			b.ReportMetric(m/floor, c.name+"/floor")
		}
	}
}

// discard is a ResponseWriter that keeps nothing, as a client reading the
// answer away would.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}
