package main

import (
	"database/sql"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// profiler records, with -profile DIR, what groupd did during the groupd
// half of a scenario (never during its floor): a CPU profile from groupd's
// /debug/pprof (DIR/<name>.cpu.pprof, read it with `go tool pprof -top`) and
// the statements PostgreSQL ran, from pg_stat_statements
// (DIR/<name>.statements.txt: calls and planning and execution time per
// request), and what groupd's database sessions were doing, sampled from
// pg_stat_activity every 10 ms (DIR/<name>.statements.txt, after the
// statements). A nil profiler records nothing.
type profiler struct {
	dir   string
	pprof string // groupd's pprof address
	db    *sql.DB
}

// profileSettings are the managed PostgreSQL's extra settings for -profile.
var profileSettings = map[string]string{
	"shared_preload_libraries":          "pg_stat_statements",
	"pg_stat_statements.track_planning": "on",
	"pg_stat_statements.max":            "1000",
}

func newProfiler(dir, pprofAddr string, db *sql.DB) (*profiler, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if _, err := db.Exec(`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
		return nil, fmt.Errorf("-profile needs pg_stat_statements in shared_preload_libraries: %w", err)
	}
	return &profiler{dir: dir, pprof: pprofAddr, db: db}, nil
}

// profiled runs load, groupd's half of scenario name, expected to take
// about d, under the profiler; the CPU profile covers d rounded up to whole
// seconds from the start (pprof profiles whole seconds).
func (b *bench) profiled(name string, d time.Duration, load func() result) (result, error) {
	p := b.profile
	if p == nil {
		return load(), nil
	}
	if _, err := p.db.Exec(`SELECT pg_stat_statements_reset()`); err != nil {
		return result{}, err
	}
	cpu := make(chan error, 1)
	go func() { cpu <- p.cpuProfile(name, int(math.Ceil(d.Seconds()))) }()
	time.Sleep(100 * time.Millisecond) // the profile has started before the load does
	stop, waits := make(chan struct{}), make(chan sessionSamples, 1)
	go func() { waits <- p.sampleSessions(stop) }()
	r := load()
	close(stop)
	w := <-waits
	if err := <-cpu; err != nil {
		return r, err
	}
	return r, p.statements(name, r.Requests, w)
}

// sessionSamples counts, over samples of pg_stat_activity, the database
// sessions of groupd in each state: "active" with its wait event ("CPU"
// when it waits for none: running, or runnable and waiting for a core),
// "idle in transaction" (a transaction open while PostgreSQL waits for the
// client's next statement: a round trip, or groupd's own work between two
// statements, with the transaction's row locks held).
type sessionSamples struct {
	samples int
	counts  map[string]int
	err     error
}

func (p *profiler) sampleSessions(stop chan struct{}) sessionSamples {
	out := sessionSamples{counts: map[string]int{}}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return out
		case <-tick.C:
		}
		rows, err := p.db.Query(`SELECT CASE WHEN state = 'active' THEN 'active: ' || COALESCE(wait_event_type || ' ' || wait_event, 'CPU')
				ELSE state END, count(*)
			FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
				AND state IN ('active', 'idle in transaction')
			GROUP BY 1`)
		if err != nil {
			out.err = err
			return out
		}
		for rows.Next() {
			var k string
			var n int
			if err := rows.Scan(&k, &n); err != nil {
				out.err = err
			}
			out.counts[k] += n
		}
		rows.Close()
		out.samples++
	}
}

func (p *profiler) cpuProfile(name string, seconds int) error {
	resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", p.pprof, max(1, seconds)))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("pprof: %s", resp.Status)
	}
	f, err := os.Create(filepath.Join(p.dir, name+".cpu.pprof"))
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// statements writes what pg_stat_statements counted since the reset, per
// request of the load, and prints the totals. BEGIN and COMMIT count as
// statements (track_utility); a statement is one round trip when prepared
// and two when lib/pq sends it unnamed with parameters (parse, then bind and
// execute).
func (p *profiler) statements(name string, requests int, w sessionSamples) error {
	if w.err != nil {
		return w.err
	}
	rows, err := p.db.Query(`SELECT calls, plans, total_plan_time, total_exec_time, rows, regexp_replace(query, '\s+', ' ', 'g')
		FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE '%pg_stat_activity%'
		ORDER BY total_plan_time + total_exec_time DESC`)
	if err != nil {
		return err
	}
	defer rows.Close()
	n := float64(max(1, requests))
	var sb strings.Builder
	var calls, plans, plan, exec float64
	for rows.Next() {
		var c, pl, r int64
		var pt, et float64
		var q string
		if err := rows.Scan(&c, &pl, &pt, &et, &r, &q); err != nil {
			return err
		}
		calls, plans, plan, exec = calls+float64(c), plans+float64(pl), plan+pt, exec+et
		if len(q) > 240 {
			q = q[:240] + "..."
		}
		fmt.Fprintf(&sb, "%8.2f calls/req %8.2f plans/req %8.3f ms plan/req %8.3f ms exec/req %8d rows  %s\n",
			float64(c)/n, float64(pl)/n, pt/n, et/n, r, q)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	head := fmt.Sprintf("%s: %d requests, %.2f statements/request, %.2f plans/request, PostgreSQL %.3f ms/request (planning %.3f, execution %.3f)",
		name, requests, calls/n, plans/n, (plan+exec)/n, plan/n, exec/n)
	fmt.Printf("  profile %s; %s\n", head, filepath.Join(p.dir, name+".cpu.pprof"))
	keys := make([]string, 0, len(w.counts))
	for k := range w.counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return w.counts[keys[i]] > w.counts[keys[j]] })
	fmt.Fprintf(&sb, "\ngroupd's database sessions, %d samples of pg_stat_activity (mean sessions in each state):\n", w.samples)
	for _, k := range keys {
		fmt.Fprintf(&sb, "%8.2f  %s\n", float64(w.counts[k])/float64(max(1, w.samples)), k)
	}
	return os.WriteFile(filepath.Join(p.dir, name+".statements.txt"), []byte(head+"\n\n"+sb.String()), 0o644)
}
