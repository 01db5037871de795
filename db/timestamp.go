package db

import (
	"fmt"
	"time"

	"github.com/lib/pq"
)

// Timestamp scans a timestamptz selected as text (col::text), or NULL.
//
// lib/pq parses every timestamptz column into a time.Time as it reads the
// row, through a general parser, which is costly on large listing pages
// (docs/benchmarks.md, "Measurements behind the code"). The text PostgreSQL
// writes with DateStyle ISO has one shape, which this reads directly;
// anything else (BC dates, infinity, a DateStyle of another kind) goes to
// lib/pq's parser, so every value PostgreSQL can send still scans.
type Timestamp struct {
	Time  time.Time
	Valid bool
}

// Scan implements sql.Scanner.
func (t *Timestamp) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*t = Timestamp{}
		return nil
	case time.Time:
		*t = Timestamp{Time: v, Valid: true}
		return nil
	case []byte:
		return t.parse(v)
	case string:
		return t.parse([]byte(v))
	}
	return fmt.Errorf("db.Timestamp: cannot scan %T", src)
}

// Ptr is the time, or nil for NULL.
func (t Timestamp) Ptr() *time.Time {
	if !t.Valid {
		return nil
	}
	tt := t.Time
	return &tt
}

func (t *Timestamp) parse(b []byte) error {
	if tm, ok := parseISO(b); ok {
		*t = Timestamp{Time: tm, Valid: true}
		return nil
	}
	tm, err := pq.ParseTimestamp(nil, string(b))
	if err != nil {
		return err
	}
	*t = Timestamp{Time: tm, Valid: true}
	return nil
}

// parseISO reads "2006-01-02 15:04:05[.999999]±07[:00[:00]]".
func parseISO(b []byte) (time.Time, bool) {
	if len(b) < 22 || b[4] != '-' || b[7] != '-' || b[10] != ' ' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	num := func(s []byte) (int, bool) {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hour, ok4 := num(b[11:13])
	minute, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, false
	}
	rest := b[19:]
	nsec := 0
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		scale := 100000000
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			if i > 9 {
				return time.Time{}, false
			}
			nsec += int(rest[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == 1 {
			return time.Time{}, false
		}
		rest = rest[i:]
	}
	if len(rest) < 3 || (rest[0] != '+' && rest[0] != '-') {
		return time.Time{}, false
	}
	sign := 1
	if rest[0] == '-' {
		sign = -1
	}
	offH, ok := num(rest[1:3])
	if !ok {
		return time.Time{}, false
	}
	offset := offH * 3600
	rest = rest[3:]
	for _, unit := range []int{60, 1} {
		if len(rest) == 0 {
			break
		}
		if len(rest) < 3 || rest[0] != ':' {
			return time.Time{}, false
		}
		n, ok := num(rest[1:3])
		if !ok {
			return time.Time{}, false
		}
		offset += n * unit
		rest = rest[3:]
	}
	if len(rest) != 0 {
		return time.Time{}, false
	}
	offset *= sign
	tm := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC).Add(-time.Duration(offset) * time.Second)
	return tm, true
}
