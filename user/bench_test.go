package user

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/db/dbtest"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
	"github.com/groupd/groupd/session"
	"github.com/lib/pq"
)

// pgNotifier is the Notifier of package session's functions: pg_notify in
// the write's transaction, as in production but without a session service.
type pgNotifier struct{}

func (pgNotifier) NotifyUsers(ctx context.Context, tx *sql.Tx, ids ...int64) error {
	return session.NotifyUsers(ctx, tx, ids...)
}

func (pgNotifier) NotifyGroups(ctx context.Context, tx *sql.Tx, ids ...int64) error {
	return session.NotifyGroups(ctx, tx, ids...)
}

// EndSessions only announces: these tests create no sessions.
func (pgNotifier) EndSessions(ctx context.Context, tx *sql.Tx, ids []int64, _ int64) error {
	for _, id := range ids {
		if err := session.NotifySessions(ctx, tx, id); err != nil {
			return err
		}
	}
	return nil
}

// benchBig is the number of members of the big group: 10^5, or
// GROUPD_BENCH_MEMBERS (e.g. 1000000 for the 10^6 of issue 5).
var benchBig = func() int {
	if n, err := strconv.Atoi(os.Getenv("GROUPD_BENCH_MEMBERS")); err == nil && n >= 100000 {
		return n
	}
	return 100000
}()

// Sizes of the membership benchmarks.
const (
	benchSmall    = 10    // members of the small group
	benchOthers   = 100   // other groups, among which every user is in two
	benchSpares   = 20000 // users in neither group, to add
	benchPageSize = 100   // members per page; page 1,000 is the last of a group of 10^5
)

// memberBench is a database with a group of benchBig members (group 500), a
// group of benchSmall members (501), benchOthers groups holding two more
// memberships of every user (so that the big group is a third of the
// memberships table, not all of it), spare users in none of them, and a
// principal that may link, unlink and read on both groups through an ACL
// entry (not root, so that every decision is a real one). It is built once
// per test binary and shared by the benchmarks.
type memberBench struct {
	db         *db.DB
	store      *Store
	p          *policy.Principal
	big, small int64
	spare      []int64
}

var (
	benchOnce    sync.Once
	benchFixture *memberBench
	benchErr     error
)

func newMemberBench(b *testing.B) *memberBench {
	b.Helper()
	benchOnce.Do(func() { benchFixture, benchErr = buildMemberBench(b) })
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchFixture
}

func buildMemberBench(tb testing.TB) (*memberBench, error) {
	ctx := context.Background()
	d, err := db.Open(ctx, dbtest.NewDatabaseURL(tb), db.Options{MaxOpenConns: 4})
	if err != nil {
		return nil, err
	}
	admin := int64(1000 + benchBig + benchSpares)
	for _, q := range []string{
		fmt.Sprintf(`INSERT INTO users (id, login, owner_user_id) SELECT i, 'b' || i, 1 FROM generate_series(1000, %d) i`, admin),
		`INSERT INTO groups (id, name, owner_user_id) VALUES (500, 'big', 1), (501, 'small', 1), (502, 'admins', 1)`,
		fmt.Sprintf(`INSERT INTO groups (id, name, owner_user_id) SELECT 600 + i, 'other' || i, 1 FROM generate_series(0, %d) i`, benchOthers-1),
		fmt.Sprintf(`INSERT INTO memberships (group_id, user_id) SELECT 500, i FROM generate_series(1000, %d) i`, 999+benchBig),
		fmt.Sprintf(`INSERT INTO memberships (group_id, user_id) SELECT 501, i FROM generate_series(1000, %d) i`, 999+benchSmall),
		fmt.Sprintf(`INSERT INTO memberships (group_id, user_id) SELECT 600 + g, i FROM generate_series(1000, %[1]d) i,
			LATERAL (VALUES (i %% %[2]d), ((i / %[2]d + 1) %% %[2]d)) AS o(g) ON CONFLICT DO NOTHING`, 999+benchBig, benchOthers),
		fmt.Sprintf(`INSERT INTO memberships (group_id, user_id) VALUES (502, %d)`, admin),
		fmt.Sprintf(`INSERT INTO group_acl (group_id, position, who_group_id, rights, mask)
			SELECT g, 0, 502, '{"link":{},"unlink":{},"bag_read":{}}', %d FROM unnest(ARRAY[500, 501]) g`,
			rights.MaskLink|rights.MaskUnlink|rights.MaskBagRead),
	} {
		if _, execContextErr := d.ExecContext(ctx, q); execContextErr != nil {
			return nil, fmt.Errorf("%s: %w", q, execContextErr)
		}
	}
	if vacuumErr := vacuum(ctx, d); vacuumErr != nil {
		return nil, vacuumErr
	}
	engine, err := policy.New()
	if err != nil {
		return nil, err
	}
	mb := &memberBench{db: d, store: NewStore(d, engine, pgNotifier{}), big: 500, small: 501,
		p: &policy.Principal{UserID: admin, UserType: "easydb", Groups: []int64{502},
			SystemGroups: policy.SystemGroupsFor("easydb")}}
	for i := 0; i < benchSpares; i++ {
		mb.spare = append(mb.spare, int64(1000+benchBig+i))
	}
	return mb, nil
}

// vacuum vacuums until the visibility map covers memberships (a snapshot
// still open elsewhere can keep a first VACUUM from setting it), so that
// the member scans are index-only, as in a database autovacuum keeps.
func vacuum(ctx context.Context, d *db.DB) error {
	for try := 0; ; try++ {
		if _, err := d.ExecContext(ctx, `VACUUM ANALYZE users, memberships, groups, group_acl`); err != nil {
			return err
		}
		var visible, pages int
		if err := d.QueryRowContext(ctx, `SELECT relallvisible, relpages FROM pg_class WHERE relname = 'memberships'`).
			Scan(&visible, &pages); err != nil {
			return err
		}
		if visible >= pages || try == 20 {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// reset takes the spare users out of every group again, so that each run
// starts with groups of benchBig and benchSmall members.
func (mb *memberBench) reset(b *testing.B) {
	ctx := context.Background()
	if _, err := mb.db.ExecContext(ctx, `DELETE FROM memberships WHERE user_id = ANY($1::bigint[])`, pq.Array(mb.spare)); err != nil {
		b.Fatal(err)
	}
	if err := vacuum(ctx, mb.db); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkMemberAdd adds one member to a group of 10^5 members (benchBig)
// and one to a group of 10, alternately, through ChangeMembers (decision,
// INSERT ... ON CONFLICT, audit event, notification, commit), and reports
// the time of each and their ratio. Goal (issue 5): big/small at most 1.5.
func BenchmarkMemberAdd(b *testing.B) {
	mb := newMemberBench(b)
	mb.reset(b)
	ctx := context.Background()
	if b.N > len(mb.spare) {
		b.Fatalf("b.N %d over %d spare users: run with a smaller -benchtime", b.N, len(mb.spare))
	}
	var small, big time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		u := mb.spare[i]
		for _, g := range []int64{mb.small, mb.big} {
			start := time.Now()
			res, err := mb.store.ChangeMembers(ctx, mb.p, g, MemberChange{Add: []int64{u}})
			d := time.Since(start)
			if err != nil || len(res) != 1 || res[0].Result != ResultAdded {
				b.Fatalf("add %d to %d: %v %v", u, g, res, err)
			}
			if g == mb.big {
				big += d
			} else {
				small += d
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(small.Nanoseconds())/float64(b.N), "ns/add-to-small")
	b.ReportMetric(float64(big.Nanoseconds())/float64(b.N), "ns/add-to-big")
	b.ReportMetric(float64(big)/float64(small), "big/small")
}

// BenchmarkMemberList lists page 1 and page 1,000 (100 members a page) of a
// group of 10^5 members (benchBig), alternately, through ListMembers
// (decision, start and count in one index pass, keyset page), and reports
// the time of each and their ratio. Goal (issue 5): page 1,000 / page 1 at
// most 2.
func BenchmarkMemberList(b *testing.B) {
	mb := newMemberBench(b)
	mb.reset(b)
	ctx := context.Background()
	var first, deep time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, page := range []int{1, 1000} {
			start := time.Now()
			ms, total, err := mb.store.ListMembers(ctx, mb.p, mb.big, benchPageSize, (page-1)*benchPageSize)
			d := time.Since(start)
			if err != nil || total != benchBig || len(ms) != benchPageSize {
				b.Fatalf("page %d: %d members of %d, %v", page, len(ms), total, err)
			}
			if want := int64(1000 + (page-1)*benchPageSize); ms[0].ID != want {
				b.Fatalf("page %d starts at %d, want %d", page, ms[0].ID, want)
			}
			if page == 1 {
				first += d
			} else {
				deep += d
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(first.Nanoseconds())/float64(b.N), "ns/page-1")
	b.ReportMetric(float64(deep.Nanoseconds())/float64(b.N), "ns/page-1000")
	b.ReportMetric(float64(deep)/float64(first), "deep/first")
}
