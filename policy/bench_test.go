package policy

import (
	"fmt"
	"math/rand"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/groupd/groupd/acl"
	"github.com/groupd/groupd/rights"
)

// benchWorld is a world the size of a large installation, in memory: what
// the database would hand to the engine, one object (with its own ACL) at a
// time. Groups have ids from 3 (1 and 2 are :all and :non_system).
type benchWorld struct {
	principals []*Principal // one per user, none of them root
	groups     []*Object
	users      []*Object
	entries    int // ACL entries on groups
}

const (
	benchEntriesPerGroup = 10 // 10^5 groups -> 10^6 ACL entries
	benchGroupsPerUser   = 5  // static memberships of each user
	benchUserACL         = 2  // ACL entries on each user
)

var benchWorlds sync.Map // groups count -> func() *benchWorld (sync.OnceValue)

// worldOf builds the world with n groups, n*10 group ACL entries and n
// users once per test binary.
func worldOf(n int) *benchWorld {
	build, _ := benchWorlds.LoadOrStore(n, sync.OnceValue(func() *benchWorld { return buildBenchWorld(n) }))
	return build.(func() *benchWorld)()
}

func buildBenchWorld(n int) *benchWorld {
	r := rand.New(rand.NewSource(int64(n)))
	// A few shared window ends, so that 10^6 entries need no 10^6 times.
	times := []time.Time{refNow.Add(-48 * time.Hour), refNow.Add(-time.Hour), refNow.Add(time.Hour), refNow.Add(48 * time.Hour)}
	userID := func() int64 { return int64(1 + r.Intn(n)) }
	groupID := func() int64 { return int64(3 + r.Intn(n)) }
	entries := func(k int) []acl.Entry {
		out := make([]acl.Entry, k)
		for i := range out {
			e := &out[i]
			switch x := r.Intn(100); {
			case x < 60:
				e.WhoUserID = userID()
			case x < 95:
				e.WhoGroupID = groupID()
			default:
				e.WhoGroupID = []int64{GroupAll, GroupNonSystem}[r.Intn(2)]
			}
			e.Mask = rights.MaskOf(rights.ACLRightNames[r.Intn(len(rights.ACLRightNames))])
			e.Active = r.Intn(10) > 0
			if r.Intn(5) == 0 {
				e.From, e.To = &times[r.Intn(2)], &times[2+r.Intn(2)]
			}
		}
		return out
	}

	w := &benchWorld{}
	for i := range n {
		g := &Object{Kind: "group", ID: int64(3 + i), GroupType: "easydb", ACL: entries(benchEntriesPerGroup)}
		if r.Intn(7) == 0 {
			g.GroupType = fmt.Sprintf("custom-%d", r.Intn(5))
		}
		if r.Intn(3) == 0 {
			g.OwnerGroupID = groupID()
		} else {
			g.OwnerUserID = userID()
		}
		w.groups = append(w.groups, g)
		w.entries += len(g.ACL)
	}
	for i := range n {
		p := &Principal{UserID: int64(1 + i), UserType: "easydb", SystemGroups: SystemGroupsFor("easydb")}
		for range benchGroupsPerUser {
			p.Groups = append(p.Groups, groupID())
		}
		slices.Sort(p.Groups)
		p.Groups = slices.Compact(p.Groups)
		if r.Intn(10) == 0 {
			p.SystemRights = rights.Map{"system.group": {"global_custom_bag_read": true}}
		}
		u := &Object{Kind: "user", ID: p.UserID, OwnerUserID: userID(), ACL: entries(benchUserACL)}
		for _, gid := range p.Groups {
			u.UserGroups = append(u.UserGroups, GroupACL{GroupID: gid, ACL: w.groups[gid-3].ACL})
		}
		w.principals = append(w.principals, p)
		w.users = append(w.users, u)
	}
	return w
}

// BenchmarkCan measures one decision (one Casbin Enforce) for a random
// non-root principal, a random object and a random right, in a world of
// 10^4 and of 10^5 groups, users and ten times as many ACL entries. Beside
// ns/op it reports the median of individually timed decisions (p50-ns),
// the median of the reference model's plain-Go evaluation of the same
// decisions measured in the same run (floor-p50-ns), and their ratio
// (x-floor). The cost must not grow with the world: each decision reads
// only its object and principal.
func BenchmarkCan(b *testing.B) {
	e, err := New()
	if err != nil {
		b.Fatal(err)
	}
	e.SetClock(func() time.Time { return refNow })
	for _, n := range []int{10_000, 100_000} {
		for _, kind := range []string{"group", "user"} {
			b.Run(fmt.Sprintf("groups=%d/entries=%d/users=%d/%s", n, n*benchEntriesPerGroup, n, kind), func(b *testing.B) {
				start := time.Now()
				w := worldOf(n)
				if built := time.Since(start); built > time.Second {
					b.Logf("built a world of %d groups, %d ACL entries, %d users in %v", len(w.groups), w.entries, len(w.users), built)
				}
				objects := w.groups
				if kind == "user" {
					objects = w.users
				}
				r := rand.New(rand.NewSource(1))
				next := func() (*Principal, string, *Object) {
					return w.principals[r.Intn(len(w.principals))], rights.ACLRightNames[r.Intn(len(rights.ACLRightNames))],
						objects[r.Intn(len(objects))]
				}

				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					p, right, obj := next()
					if _, err := e.Can(p, right, obj); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()

				p50, floor := sampleMedians(b, e, next)
				b.ReportMetric(float64(p50), "p50-ns")
				b.ReportMetric(float64(floor), "floor-p50-ns")
				b.ReportMetric(float64(p50)/float64(floor), "x-floor")
			})
		}
	}
}

// sampleMedians times 10,000 decisions one by one, each by Can and by the
// reference model, and returns both medians, less the median cost of
// reading the clock twice. It also checks that both agree.
func sampleMedians(b *testing.B, e *Engine, next func() (*Principal, string, *Object)) (can, ref time.Duration) {
	const samples = 10_000
	canT := make([]time.Duration, samples)
	refT := make([]time.Duration, samples)
	clockT := make([]time.Duration, samples)
	for i := range samples {
		p, right, obj := next()
		t0 := time.Now()
		got, err := e.Can(p, right, obj)
		t1 := time.Now()
		want := refCan(p, right, obj, refNow)
		t2 := time.Now()
		t3 := time.Now()
		if err != nil || got != want {
			b.Fatalf("Can(user %d, %s, %s %d) = %v, %v; reference says %v", p.UserID, right, obj.Kind, obj.ID, got, err, want)
		}
		canT[i], refT[i], clockT[i] = t1.Sub(t0), t2.Sub(t1), t3.Sub(t2)
	}
	clock := median(clockT)
	return max(median(canT)-clock, 1), max(median(refT)-clock, 1)
}

func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// BenchmarkRights is _generated_rights of one group: eight decisions.
func BenchmarkRights(b *testing.B) {
	e := newTestEngine(b)
	w := worldOf(100_000)
	r := rand.New(rand.NewSource(1))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Rights(w.principals[r.Intn(len(w.principals))], w.groups[r.Intn(len(w.groups))]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHasSystemRight is one decision of model.conf's m3.
func BenchmarkHasSystemRight(b *testing.B) {
	e := newTestEngine(b)
	p := principal(withRights(rights.Map{"system.group": {"create": true}}))
	b.ReportAllocs()
	for b.Loop() {
		if !e.HasSystemRight(p, rights.SystemGroup, rights.ParamCreate) {
			b.Fatal("refused")
		}
	}
}
