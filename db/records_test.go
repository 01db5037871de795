package db_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"

	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/db/dbtest"
)

// TestNextIDs: writers taking ids from one sequence at the same time each
// get as many as they ask, ascending, none twice, whether their runs
// interleave or not.
func TestNextIDs(t *testing.T) {
	d := dbtest.MustOpenDB(t)
	ctx := context.Background()
	const writers, rounds, n = 4, 5, 3000
	var mu sync.Mutex
	seen := map[int64]bool{}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				var ids []int64
				err := d.InTx(ctx, func(tx *sql.Tx) error {
					var err error
					ids, err = db.NextIDs(ctx, tx, "group_acl", n)
					return err
				})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for i, id := range ids {
					if seen[id] || (i > 0 && id <= ids[i-1]) {
						mu.Unlock()
						t.Errorf("id %d at %d: taken twice or not ascending", id, i)
						return
					}
					seen[id] = true
				}
				mu.Unlock()
				if len(ids) != n {
					t.Errorf("%d ids, asked %d", len(ids), n)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(seen) != writers*rounds*n {
		t.Fatalf("%d distinct ids, want %d", len(seen), writers*rounds*n)
	}
}
