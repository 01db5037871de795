package session

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// ClientAddress is the address that the per-address limits count a request
// against: the connection's peer, or, when header is set (a reverse proxy in
// front of groupd sets it), the last address in that header, which is the one
// the nearest proxy added. An IPv6 address counts as its /64 network, since
// one host usually holds a whole /64. "" when no address can be read.
func ClientAddress(r *http.Request, header string) string {
	raw := ""
	if header != "" {
		if v := r.Header.Values(header); len(v) > 0 {
			last := v[len(v)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			raw = strings.TrimSpace(last)
		}
	}
	if raw == "" {
		raw = r.RemoteAddr
		if host, _, err := net.SplitHostPort(raw); err == nil {
			raw = host
		}
	}
	a, err := netip.ParseAddr(raw)
	if err != nil {
		return ""
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// rateLimiter admits at most limit events per address in each fixed window
// of one period. It forgets every address when a new window starts, so its
// memory is what one window's addresses take, and at most maxTracked
// addresses: beyond that, new addresses are admitted uncounted rather than
// refused, so that a flood of addresses can exhaust neither memory nor
// everybody else's access.
type rateLimiter struct {
	limit      int
	period     time.Duration
	maxTracked int

	mu     sync.Mutex
	window time.Time
	counts map[string]int
}

func newRateLimiter(limit int, period time.Duration, maxTracked int) *rateLimiter {
	return &rateLimiter{limit: limit, period: period, maxTracked: maxTracked, counts: map[string]int{}}
}

// allow counts an event of addr at now; when addr has used up the window,
// it returns false and when the next window starts. A limit of 0 or less
// admits everything.
func (l *rateLimiter) allow(addr string, now time.Time) (bool, time.Time) {
	if l == nil || l.limit <= 0 {
		return true, time.Time{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if w := now.Truncate(l.period); !w.Equal(l.window) {
		l.window, l.counts = w, map[string]int{}
	}
	n, known := l.counts[addr]
	if !known && len(l.counts) >= l.maxTracked {
		return true, time.Time{}
	}
	if n >= l.limit {
		return false, l.window.Add(l.period)
	}
	l.counts[addr] = n + 1
	return true, time.Time{}
}
