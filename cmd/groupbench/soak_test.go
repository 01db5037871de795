package main

import (
	"strings"
	"testing"
	"time"
)

func TestSoakVerdict(t *testing.T) {
	minute := func(rssMB int64, goroutines int, p99 time.Duration, e5xx int) soakMinute {
		return soakMinute{requests: 1000, errors5xx: e5xx, p99: p99,
			gauges: soakGauges{RSS: rssMB << 20, Goroutines: goroutines, DBOpen: 64}}
	}
	var flat, leak, spiky []soakMinute
	for i := 0; i < 30; i++ {
		flat = append(flat, minute(38, 40+i%3*20, 60*time.Millisecond, 0))
		leak = append(leak, minute(38+int64(i)*10, 45, 60*time.Millisecond, 0))
		p99 := 60 * time.Millisecond
		if i%7 == 0 {
			p99 = 400 * time.Millisecond // a busy neighbour, once in a while
		}
		spiky = append(spiky, minute(38, 45, p99, 0))
	}
	if err := soakVerdict(flat, ""); err != nil {
		t.Errorf("flat: %v", err)
	}
	if err := soakVerdict(spiky, ""); err != nil {
		t.Errorf("an occasional slow minute: %v", err)
	}
	if err := soakVerdict(leak, ""); err == nil || !strings.Contains(err.Error(), "RSS") {
		t.Errorf("growing RSS: %v", err)
	}
	flat[12].errors5xx = 1
	if err := soakVerdict(flat, "POST /api/v1/group: 500"); err == nil || !strings.Contains(err.Error(), "5xx") {
		t.Errorf("a 5xx: %v", err)
	}
}
