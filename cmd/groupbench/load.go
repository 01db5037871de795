package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// request builds the i-th request of a load; worker is the client's number.
type request func(worker, i int) (*http.Request, error)

// result is what one load measured.
type result struct {
	Requests int
	Errors   int
	Elapsed  time.Duration
	P50, P99 time.Duration
	firstErr string
	// byKind is the load of each kind of request in a mixed open loop
	// (runPaced) on its own: what makes the tail.
	byKind map[string]result
}

// kind names a request of the mix: a write, a page, or a read by id.
func kind(req *http.Request) string {
	switch {
	case req.Method != http.MethodGet:
		return "write"
	case req.URL.RawQuery != "":
		return "page"
	}
	return "read"
}

// RPS is the throughput (0 for a load that did not run).
func (r result) RPS() float64 {
	if r.Requests == 0 || r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// warmUp is how long a closed-loop load runs, unmeasured, before it is
// timed, for groupd and its floor alike: the database pool opens its
// connections, and each new PostgreSQL backend loads its catalog caches and
// plans its statements (tens of milliseconds a connection for the first
// statement), which a server that stays up has paid long before. What the
// window measures is the server in its steady state.
const warmUp = time.Second

// runWarm is run after warmUp of the same load, whose results are dropped.
// next sees the warm-up's requests too: what it counts (versions, offsets)
// goes on from there.
func runWarm(client *http.Client, clients int, d time.Duration, next request) result {
	run(client, clients, 0, warmUp, next)
	return run(client, clients, 0, d, next)
}

// run sends requests from `clients` concurrent workers, each on its own
// keep-alive connection, until `total` requests are done or `d` has passed
// (whichever comes first; 0 disables that bound). Only loopback is ever a
// target. A response that is not 200 counts as an error.
func run(client *http.Client, clients, total int, d time.Duration, next request) result {
	var (
		mu       sync.Mutex
		lat      = make([]time.Duration, 0, 1<<16)
		errs     int
		firstErr string
		n        atomic.Int64
		wg       sync.WaitGroup
	)
	ctx := context.Background()
	if d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	start := time.Now()
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			local := make([]time.Duration, 0, 1024)
			localErrs := 0
			for ctx.Err() == nil {
				i := int(n.Add(1)) - 1
				if total > 0 && i >= total {
					break
				}
				req, err := next(w, i)
				if err != nil {
					panic(err)
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				var body []byte
				if err == nil {
					body, _ = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				el := time.Since(t0)
				if ctx.Err() != nil && err != nil {
					break // cut off by the deadline, not a failure
				}
				if err != nil || resp.StatusCode != 200 {
					localErrs++
					mu.Lock()
					if firstErr == "" {
						if err != nil {
							firstErr = err.Error()
						} else {
							firstErr = fmt.Sprintf("%d %.200s", resp.StatusCode, bytes.TrimSpace(body))
						}
					}
					mu.Unlock()
				}
				local = append(local, el)
			}
			mu.Lock()
			lat = append(lat, local...)
			errs += localErrs
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	r := result{Requests: len(lat), Errors: errs, Elapsed: time.Since(start), firstErr: firstErr}
	if len(lat) > 0 {
		slices.Sort(lat)
		r.P50 = lat[len(lat)/2]
		r.P99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	return r
}

// runPaced sends requests at a fixed rate, an open loop: request i is due
// at start + i/rate whatever happened to the ones before, and is taken by
// the first of `clients` workers that is free. Its latency counts from the
// moment it was due, not from when a worker got to it, so that a server that
// falls behind shows it in the percentiles (coordinated omission) instead of
// slowing the load down, as a closed loop does. A response that is not 200
// counts as an error.
func runPaced(client *http.Client, clients int, rate float64, d time.Duration, next request) result {
	total := int(rate * d.Seconds())
	due := make(chan int, total+1)
	var (
		mu       sync.Mutex
		lat      = make([]time.Duration, 0, total)
		kinds    = map[string][]time.Duration{}
		kindErrs = map[string]int{}
		errs     int
		firstErr string
		wg       sync.WaitGroup
	)
	start := time.Now()
	dueAt := func(i int) time.Time { return start.Add(time.Duration(float64(i) / rate * float64(time.Second))) }
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := range due {
				req, err := next(w, i)
				if err != nil {
					panic(err)
				}
				resp, err := client.Do(req)
				var body []byte
				if err == nil {
					body, _ = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				el := time.Since(dueAt(i))
				mu.Lock()
				if err != nil || resp.StatusCode != 200 {
					errs++
					kindErrs[kind(req)]++
					if firstErr == "" {
						if err != nil {
							firstErr = err.Error()
						} else {
							firstErr = fmt.Sprintf("%d %.200s", resp.StatusCode, bytes.TrimSpace(body))
						}
					}
				}
				lat = append(lat, el)
				kinds[kind(req)] = append(kinds[kind(req)], el)
				mu.Unlock()
			}
		}(w)
	}
	for i := 0; i < total; i++ {
		if wait := time.Until(dueAt(i)); wait > 0 {
			time.Sleep(wait)
		}
		due <- i
	}
	close(due)
	wg.Wait()
	elapsed := time.Since(start)
	r := result{Requests: len(lat), Errors: errs, Elapsed: elapsed, firstErr: firstErr, byKind: map[string]result{}}
	for k, l := range kinds {
		slices.Sort(l)
		r.byKind[k] = result{Requests: len(l), Errors: kindErrs[k], Elapsed: elapsed, P50: l[len(l)/2],
			P99: l[min(len(l)-1, len(l)*99/100)]}
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		r.P50 = lat[len(lat)/2]
		r.P99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	return r
}

func newClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        conns * 2,
			MaxIdleConnsPerHost: conns * 2,
			MaxConnsPerHost:     conns,
			IdleConnTimeout:     time.Minute,
		},
	}
}

func get(url string, header ...string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		panic(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}

func withBody(method, url string, body []byte, header ...string) *http.Request {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}
