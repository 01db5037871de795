package main

// The soak (issue 7, make soak): the mixed load of scenario 6 for a long
// time at half the capacity measured in the same run, printing every minute
// groupd's RSS, goroutines, open database connections, p99 and 5xx, and
// failing when any request got a 5xx or when those figures did not stay
// flat.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// soakDuration is set by -soak; 0 runs the benchmark instead.
var soakDuration time.Duration

// soakGauges are groupd's figures at one moment.
type soakGauges struct {
	RSS        int64 // VmRSS of the groupd process
	Goroutines int   // go_goroutines
	DBOpen     int   // go_sql_open_connections
}

func (g soakGauges) String() string {
	return fmt.Sprintf("RSS %4d MB  goroutines %4d  db connections %3d", g.RSS>>20, g.Goroutines, g.DBOpen)
}

func soakRead(pid int, base string) (soakGauges, error) {
	var g soakGauges
	// groupd's RSS: from /proc when it is this benchmark's child, else
	// (-url) from its process_resident_memory_bytes metric below
	if pid != 0 {
		f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return g, err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
				g.RSS = kb * 1024
			}
		}
		f.Close()
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return g, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		v, _ := strconv.ParseFloat(strings.TrimSpace(value), 64)
		switch {
		case name == "go_goroutines":
			g.Goroutines = int(v)
		case strings.HasPrefix(name, "go_sql_open_connections"):
			g.DBOpen = int(v)
		case name == "process_resident_memory_bytes" && pid == 0:
			g.RSS = int64(v)
		}
	}
	return g, sc.Err()
}

// soakMinute is what one minute of the soak measured.
type soakMinute struct {
	requests, errors5xx, otherErrors int
	p99                              time.Duration
	gauges                           soakGauges
}

// soak runs the mixed load at half capacity for d.
func (b *bench) soak(d time.Duration) error {
	const clients = 64
	// Capacity: the mixed load, closed loop, for a short window.
	next, err := b.mixRequests(clients, b.base, groupdAPI)
	if err != nil {
		return err
	}
	capacity := run(newClient(clients), clients, 0, 15*time.Second, next).RPS()
	rate := capacity / 2
	fmt.Printf("soak: capacity %.0f requests/s, running %.0f/s (half) for %v; a line a minute\n", capacity, rate, d)

	versions := map[int64]int64{}
	rows, err := b.db.Query(`SELECT id, version FROM groups WHERE id = ANY($1)`, pqArray(b.visible))
	if err != nil {
		return err
	}
	for rows.Next() {
		var id, v int64
		rows.Scan(&id, &v)
		versions[id] = v
	}
	rows.Close()
	owned, vers := partition(b.visible, versions, clients)
	client := newClient(clients)

	var (
		mu       sync.Mutex
		lat      []time.Duration
		e5xx     int
		eOther   int
		firstErr string
		behind   atomic.Int64 // ticks dropped because every client was busy
		wg       sync.WaitGroup
	)
	ticks := make(chan int, clients)
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(w)))
			for i := range ticks {
				var req *http.Request
				switch x := r.Intn(100); {
				case x < 10 && len(owned[w]) > 0:
					id := owned[w][r.Intn(len(owned[w]))]
					vers[w][id]++
					body := fmt.Sprintf(`[{"group":{"_id":%d,"_version":%d,"comment":"soak %d"}}]`, id, vers[w][id], i)
					req = withBody(http.MethodPost, b.base+"/api/v1/group", []byte(body), "x-easydb-token", b.readTok)
				case x < 20:
					req = get(b.base+"/api/v1/group?limit=100&offset="+strconv.Itoa(r.Intn(max(1, len(b.visible)-100))),
						"x-easydb-token", b.readTok)
				default:
					req = get(fmt.Sprintf("%s/api/v1/group/%d", b.base, b.visible[r.Intn(len(b.visible))]),
						"x-easydb-token", b.readTok)
				}
				t0 := time.Now()
				resp, doErr := client.Do(req)
				took := time.Since(t0)
				status := 0
				if doErr == nil {
					status = resp.StatusCode
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if status != 200 && req.Method == http.MethodPost {
					// The write's outcome is unknown: take the stored version.
					resync(b, vers[w])
				}
				mu.Lock()
				lat = append(lat, took)
				switch {
				case status >= 500:
					e5xx++
				case status != 200:
					eOther++
				}
				if status != 200 && firstErr == "" {
					firstErr = fmt.Sprintf("%s %s: %d %v", req.Method, req.URL.Path, status, doErr)
				}
				mu.Unlock()
			}
		}(w)
	}

	// The pacer: a tick every 1/rate, in batches every 10 ms.
	stop := make(chan struct{})
	go func() {
		defer close(ticks)
		start := time.Now()
		sent := 0
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				due := int(time.Since(start).Seconds() * rate)
				for ; sent < due; sent++ {
					select {
					case ticks <- sent:
					default:
						behind.Add(1)
					}
				}
			}
		}
	}()

	var minutes []soakMinute
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		time.Sleep(min(time.Minute, time.Until(end)))
		mu.Lock()
		m := soakMinute{requests: len(lat), errors5xx: e5xx, otherErrors: eOther}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		if len(lat) > 0 {
			m.p99 = lat[min(len(lat)-1, len(lat)*99/100)]
		}
		lat, e5xx, eOther = lat[:0], 0, 0
		mu.Unlock()
		if m.gauges, err = soakRead(b.serverPID, b.base); err != nil {
			close(stop)
			wg.Wait()
			return fmt.Errorf("soak: read groupd's figures: %w", err)
		}
		minutes = append(minutes, m)
		fmt.Printf("soak %3d min  %7d requests  p99 %8v  5xx %d  other errors %d  %s  behind %d\n", len(minutes),
			m.requests, m.p99.Round(10*time.Microsecond), m.errors5xx, m.otherErrors, m.gauges, behind.Load())
	}
	close(stop)
	wg.Wait()
	return soakVerdict(minutes, firstErr)
}

// soakVerdict: zero 5xx and no other errors; and, after the first minute
// (warm-up: pools and caches fill), RSS, goroutines, connections and p99 stay
// flat: the median of the last five minutes is within 1.5 times (plus a
// small slack) the median of minutes 2 to 6. Medians, because goroutines
// are a moment's in-flight requests and a minute's p99 moves with the
// machine's other load; a leak grows every minute and moves the median.
func soakVerdict(minutes []soakMinute, firstErr string) error {
	var problems []string
	total5xx, totalOther, total := 0, 0, 0
	for _, m := range minutes {
		total5xx += m.errors5xx
		totalOther += m.otherErrors
		total += m.requests
	}
	if total5xx > 0 || totalOther > 0 {
		problems = append(problems, fmt.Sprintf("%d responses 5xx and %d other errors (first: %s)", total5xx, totalOther, firstErr))
	}
	if len(minutes) >= 3 {
		early := minutes[1:min(6, len(minutes))]
		late := minutes[max(1, len(minutes)-5):]
		median := func(ms []soakMinute, f func(soakMinute) float64) float64 {
			v := make([]float64, len(ms))
			for i, m := range ms {
				v[i] = f(m)
			}
			sort.Float64s(v)
			return v[len(v)/2]
		}
		for _, g := range []struct {
			what  string
			f     func(soakMinute) float64
			slack float64
		}{
			{"RSS (MB)", func(m soakMinute) float64 { return float64(m.gauges.RSS >> 20) }, 32},
			{"goroutines", func(m soakMinute) float64 { return float64(m.gauges.Goroutines) }, 20},
			{"open database connections", func(m soakMinute) float64 { return float64(m.gauges.DBOpen) }, 8},
			{"p99 (ms)", func(m soakMinute) float64 { return float64(m.p99.Milliseconds()) }, 10},
		} {
			from, to := median(early, g.f), median(late, g.f)
			fmt.Printf("soak: %s: median %.0f in minutes 2-%d, %.0f in the last %d\n", g.what, from, len(early)+1, to, len(late))
			if to > from*1.5+g.slack {
				problems = append(problems, fmt.Sprintf("%s grew from %.0f to %.0f", g.what, from, to))
			}
		}
	}
	fmt.Printf("soak: %d minutes, %d requests, %d 5xx\n", len(minutes), total, total5xx)
	if len(problems) > 0 {
		return errors.New("soak failed: " + strings.Join(problems, "; "))
	}
	fmt.Println("soak: flat, zero 5xx")
	return nil
}

// resync reads the stored versions of a worker's groups.
func resync(b *bench, vers map[int64]int64) {
	for id := range vers {
		var v int64
		if err := b.db.QueryRow(`SELECT version FROM groups WHERE id = $1`, id).Scan(&v); err == nil {
			vers[id] = v
		}
	}
}
