package db_test

import (
	"context"
	"fmt"
	"math/rand"
	"testing"
	"time"

	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// TestTimestampMatchesPostgreSQL: what db.Timestamp reads from col::text is
// the instant PostgreSQL holds, in every session time zone (offsets of whole
// hours, half hours and seconds, either side of UTC), with and without
// fractional seconds, for random instants from year 1 to 9999,
// BC dates (lib/pq's parser takes those), NULL, and infinity (an error).
func TestTimestampMatchesPostgreSQL(t *testing.T) {
	d := dbtest.MustOpenDB(t)
	ctx := context.Background()
	conn, err := d.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	seed := time.Now().UnixNano()
	r := rand.New(rand.NewSource(seed))
	// (before 1900 most zones keep local mean time: offsets in seconds)
	zones := []string{"UTC", "Europe/Berlin", "Asia/Kolkata", "America/St_Johns", "Pacific/Chatham", "Africa/Monrovia", "Europe/Amsterdam"}
	for _, zone := range zones {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf(`SET TimeZone = '%s'`, zone)); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 300; i++ {
			want := time.Unix(r.Int63n(253402300799+62135596800)-62135596800, 0).UTC()
			if r.Intn(2) == 0 {
				want = want.Add(time.Duration(r.Intn(1e6)) * time.Microsecond)
			}
			if r.Intn(10) == 0 {
				want = time.Unix(1700000000+r.Int63n(1e8), 0) // whole seconds near now
			}
			var got db.Timestamp
			if err := conn.QueryRowContext(ctx, `SELECT $1::timestamptz::text`, want).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if !got.Valid || !got.Time.Equal(want) {
				var text string
				conn.QueryRowContext(ctx, `SELECT $1::timestamptz::text`, want).Scan(&text)
				t.Fatalf("seed %d zone %s: %q read as %v, want %v", seed, zone, text, got.Time, want)
			}
		}
	}
	var null db.Timestamp
	if err := conn.QueryRowContext(ctx, `SELECT NULL::timestamptz::text`).Scan(&null); err != nil || null.Valid || null.Ptr() != nil {
		t.Fatalf("NULL: %v %+v", err, null)
	}
	var bc db.Timestamp
	if err := conn.QueryRowContext(ctx, `SELECT '2000-01-01 00:00:00+00 BC'::timestamptz::text`).Scan(&bc); err != nil ||
		bc.Time.Year() != -1999 {
		t.Fatalf("BC: %v %v", err, bc.Time)
	}
	// no time.Time holds infinity: an error, never a wrong instant
	var inf db.Timestamp
	if err := conn.QueryRowContext(ctx, `SELECT 'infinity'::timestamptz::text`).Scan(&inf); err == nil {
		t.Fatalf("infinity read as %v", inf.Time)
	}
}
