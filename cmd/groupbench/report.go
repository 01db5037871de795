package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
)

func pqArray(ids []int64) any { return pq.Array(ids) }

func decodeJSON(resp *http.Response, v any) {
	defer resp.Body.Close()
	json.NewDecoder(resp.Body).Decode(v)
}

type memStats struct {
	PeakRSS   int64 // VmHWM of the groupd process (0 when it is not ours: -url)
	RSS       int64 // process_resident_memory_bytes after the loads
	HeapInUse int64 // go_memstats_heap_inuse_bytes after the loads
}

// memory reads groupd's peak RSS from /proc and its heap from /metrics.
func memory(pid int, base string) (memStats, error) {
	var m memStats
	if pid != 0 {
		f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return m, err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
				kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
				m.PeakRSS = kb * 1024
			}
		}
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return m, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_memstats_heap_inuse_bytes "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			m.HeapInUse = int64(f)
		}
		if v, ok := strings.CutPrefix(sc.Text(), "process_resident_memory_bytes "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			m.RSS = int64(f)
		}
	}
	return m, nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }

// ratio is groupd's throughput as a fraction of its floor's (1.0 = as fast
// as the floor); for the one-request bulk PUT it is time over floor time,
// written "Nx COPY".
func (r row) ratio() string {
	if r.Floor.Requests == 0 {
		return "-"
	}
	if strings.HasPrefix(r.Scenario, "3.") {
		return fmt.Sprintf("%.2fx COPY time", r.Groupd.Elapsed.Seconds()/r.Floor.Elapsed.Seconds())
	}
	if strings.HasPrefix(r.Scenario, "7.") {
		return fmt.Sprintf("%.2fx UPDATE time", r.Groupd.Elapsed.Seconds()/r.Floor.Elapsed.Seconds())
	}
	if r.Paced {
		return fmt.Sprintf("p99 %.2fx the floor's", r.Groupd.P99.Seconds()/r.Floor.P99.Seconds())
	}
	return fmt.Sprintf("%.2f", r.Groupd.RPS()/r.Floor.RPS())
}

func (b *bench) table(mem memStats) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "\n| scenario | groupd req/s | p50 ms | p99 ms | errors | floor req/s | floor p99 ms | ratio | floor |\n")
	fmt.Fprintf(&sb, "|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range b.rows {
		floorRPS, floorP99 := "-", "-"
		if r.Floor.Requests > 0 {
			floorRPS, floorP99 = fmt.Sprintf("%.0f", r.Floor.RPS()), ms(r.Floor.P99)
		}
		name := r.Scenario
		if r.Note != "" {
			name += " (" + r.Note + ")"
		}
		fmt.Fprintf(&sb, "| %s | %.0f | %s | %s | %d | %s | %s | %s | %s |\n", name, r.Groupd.RPS(), ms(r.Groupd.P50),
			ms(r.Groupd.P99), r.Groupd.Errors, floorRPS, floorP99, r.ratio(), r.FloorName)
	}
	peak := "unknown (-url: not this benchmark's process)"
	if mem.PeakRSS != 0 {
		peak = fmt.Sprintf("%.1f MiB", float64(mem.PeakRSS)/(1<<20))
	}
	fmt.Fprintf(&sb, "\ngroupd peak RSS %s, RSS after the loads %.1f MiB, Go heap in use after the loads %.1f MiB (principal and session caches included)\n",
		peak, float64(mem.RSS)/(1<<20), float64(mem.HeapInUse)/(1<<20))
	return sb.String()
}

const beginMark, endMark = "<!-- groupbench:begin -->", "<!-- groupbench:end -->"

// writeDocs replaces the groupbench section of docs/benchmarks.md and writes
// docs/bench.svg.
func (b *bench) writeDocs(dir, table string) error {
	section := fmt.Sprintf(`%s
## Load benchmark: groupbench, scale %s

Measured %s on this machine (%d CPUs, %s), with `+"`go run ./cmd/groupbench -scale=%s -write`"+`: %d groups,
%d users, %d ACL entries, %d groups of %d members. groupd runs as its own process against a managed PostgreSQL; the
floors (a bare net/http + lib/pq handler doing the same SELECT or UPDATE, COPY of the same rows, argon2id alone)
run in the benchmark's process in the same run, so the ratios hold where absolute times drift. Ratio: groupd's
throughput over the floor's (1.00 = as fast as the floor), except for the bulk PUT (time over COPY's time).
%s
![throughput and p99 per scenario](bench.svg)
%s`, beginMark, b.sc.Name, time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), runtime.Version(), b.sc.Name,
		b.sc.Groups, b.sc.Users, b.sc.Groups*b.sc.ACLPerGroup, b.sc.BigGroups, b.sc.BigMembers, table, endMark)
	path := filepath.Join(dir, "benchmarks.md")
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	doc := string(old)
	if doc == "" {
		doc = "# Benchmarks\n\nAll figures are ratios to floors measured in the same run where a floor exists.\n"
	}
	if i, j := strings.Index(doc, beginMark), strings.Index(doc, endMark); i >= 0 && j > i {
		doc = doc[:i] + section + doc[j+len(endMark):]
	} else {
		doc = strings.TrimRight(doc, "\n") + "\n\n" + section + "\n"
	}
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "bench.svg"), []byte(b.svg()), 0o644)
}

// svg draws, per scenario, groupd's and the floor's throughput as bars
// (relative to the larger of the two) and groupd's p99 as a label.
func (b *bench) svg() string {
	const rowH, left, width = 34, 330, 400
	h := 60 + rowH*len(b.rows)
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", left+width+250, h)
	fmt.Fprintf(&sb, `<rect width="100%%" height="100%%" fill="#fff"/><text x="10" y="20" font-size="14" font-weight="bold">groupd vs floor: throughput (bar length relative per row), p99 latency (scale %s)</text>`+"\n", b.sc.Name)
	fmt.Fprintf(&sb, `<rect x="10" y="32" width="12" height="10" fill="#1f5fa8"/><text x="26" y="41">groupd</text><rect x="90" y="32" width="12" height="10" fill="#b0b0b0"/><text x="106" y="41">floor</text>`+"\n")
	for i, r := range b.rows {
		y := 55 + i*rowH
		g, f := r.Groupd.RPS(), r.Floor.RPS()
		if strings.HasPrefix(r.Scenario, "3.") { // groups per second
			g, f = 10000/r.Groupd.Elapsed.Seconds(), 10000/r.Floor.Elapsed.Seconds()
		}
		top := max(g, f)
		if top == 0 {
			top = 1
		}
		name := r.Scenario
		if len(name) > 52 {
			name = name[:50] + "…"
		}
		fmt.Fprintf(&sb, `<text x="10" y="%d">%s</text>`+"\n", y+12, xmlEscape(name))
		fmt.Fprintf(&sb, `<rect x="%d" y="%d" width="%.0f" height="12" fill="#1f5fa8"/>`+"\n", left, y, width*g/top)
		if r.Floor.Requests > 0 {
			fmt.Fprintf(&sb, `<rect x="%d" y="%d" width="%.0f" height="10" fill="#b0b0b0"/>`+"\n", left, y+14, width*f/top)
		}
		fmt.Fprintf(&sb, `<text x="%d" y="%d">%.0f/s, p99 %s ms, ratio %s</text>`+"\n", left+width+6, y+12, g, ms(r.Groupd.P99), xmlEscape(r.ratio()))
	}
	sb.WriteString("</svg>\n")
	return sb.String()
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
