package audit

import (
	"context"
	"log/slog"
	"time"

	"github.com/groupd/groupd/errors"
)

// retentionBatch is the most events one DELETE removes: a sweep that has
// weeks of events to remove does it in short transactions rather than one
// that holds the feed back (List ends before every transaction in flight)
// and writes gigabytes of WAL at once.
const retentionBatch = 10000

// DeleteOlderThan deletes the events recorded more than age ago by the
// database's clock (which wrote their timestamps), in batches of
// retentionBatch, each its own transaction, and returns how many it deleted.
func (s *Store) DeleteOlderThan(ctx context.Context, age time.Duration) (int64, error) {
	var total int64
	for {
		res, err := s.db.ExecContext(ctx, `DELETE FROM events WHERE id IN (
			SELECT id FROM events WHERE at < now() - make_interval(secs => $1) ORDER BY at LIMIT $2)`,
			age.Seconds(), retentionBatch)
		if err != nil {
			return total, errors.Database(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, errors.Database(err)
		}
		total += n
		if n < retentionBatch {
			return total, nil
		}
	}
}

// Retention deletes events older than Keep, once at start and then every
// Interval, until Stop. Every groupd process on a database may run one: the
// deletes of two sweeps do not conflict beyond waiting for each other's rows.
type Retention struct {
	store    *Store
	keep     time.Duration
	interval time.Duration
	log      *slog.Logger
	stop     context.CancelFunc
	done     chan struct{}
}

// StartRetention starts the sweep of events older than keep, every interval.
func StartRetention(store *Store, keep, interval time.Duration, log *slog.Logger) *Retention {
	ctx, cancel := context.WithCancel(context.Background())
	r := &Retention{store: store, keep: keep, interval: interval, log: log, stop: cancel,
		done: make(chan struct{})}
	go r.run(ctx)
	return r
}

func (r *Retention) run(ctx context.Context) {
	defer close(r.done)
	ticker := time.NewTicker(r.interval)
	defer ticker.Stop()
	for {
		n, err := r.store.DeleteOlderThan(ctx, r.keep)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			// The next sweep tries again; the database may be away.
			r.log.Warn("audit retention", slog.Any("err", err))
		case n > 0:
			r.log.Info("audit retention: deleted old events", slog.Int64("events", n),
				slog.Duration("older_than", r.keep))
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// Stop ends the sweep and waits for it.
func (r *Retention) Stop() error {
	r.stop()
	<-r.done
	return nil
}
