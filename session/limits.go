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

// rateLimiter admits, per address, a burst of limit events and then limit
// per period, evenly spread (a token bucket per address). Once every period
// it forgets the addresses whose bucket has filled up again, so that its
// memory is what the addresses of about one period take, and it tracks at
// most maxTracked addresses: beyond that, new addresses are admitted
// uncounted rather than refused, so that a flood of addresses can exhaust
// neither memory nor everybody else's access.
type rateLimiter struct {
	limit      int
	period     time.Duration
	maxTracked int

	mu        sync.Mutex
	lastSweep time.Time
	buckets   map[string]bucket
}

// bucket: tokens were left at at.
type bucket struct {
	tokens float64
	at     time.Time
}

func newRateLimiter(limit int, period time.Duration, maxTracked int) *rateLimiter {
	return &rateLimiter{limit: limit, period: period, maxTracked: maxTracked, buckets: map[string]bucket{}}
}

// allow counts an event of addr at now; when addr has no token left, it
// returns false and when the next token comes. A limit of 0 or less admits
// everything.
func (l *rateLimiter) allow(addr string, now time.Time) (bool, time.Time) {
	if l == nil || l.limit <= 0 {
		return true, time.Time{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	full, rate := float64(l.limit), float64(l.limit)/l.period.Seconds()
	if now.Sub(l.lastSweep) >= l.period {
		for a, b := range l.buckets {
			if b.tokens+now.Sub(b.at).Seconds()*rate >= full {
				delete(l.buckets, a)
			}
		}
		l.lastSweep = now
	}
	b, known := l.buckets[addr]
	if !known {
		if len(l.buckets) >= l.maxTracked {
			return true, time.Time{}
		}
		b = bucket{tokens: full, at: now}
	}
	b.tokens = min(full, b.tokens+max(0, now.Sub(b.at).Seconds())*rate)
	b.at = now
	if b.tokens < 1 {
		l.buckets[addr] = b
		return false, now.Add(time.Duration((1 - b.tokens) / rate * float64(time.Second)))
	}
	b.tokens--
	l.buckets[addr] = b
	return true, time.Time{}
}
