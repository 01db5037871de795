// Package db opens PostgreSQL, applies groupd's schema migrations, and runs
// the managed local PostgreSQL that groupd uses when no database URL is given.
package db

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/groupd/groupd/errors"
	"github.com/lib/pq" // the PostgreSQL driver
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationLockKey is the advisory lock that serialises migrations between
// processes starting at the same time ("groupd" in ASCII).
const migrationLockKey = 0x67726f757064

// Options size the connection pool.
type Options struct {
	MaxOpenConns    int           // 0: 4 per CPU, at least 16
	MaxIdleConns    int           // 0: same as MaxOpenConns
	ConnMaxLifetime time.Duration // 0: 30 minutes
}

// DB is groupd's handle on PostgreSQL.
type DB struct {
	*sql.DB
	URL string
	Now func() time.Time // the clock; tests may replace it

	prepared sync.Map // query text -> *sql.Stmt
}

// Prepared returns query as a statement prepared once for this DB
// (database/sql prepares it on each connection at first use there). For
// the statements that run on every request: PostgreSQL plans an unnamed
// statement anew each time, which for groupd's queries costs more than
// running them. Use it with tx.StmtContext inside a transaction.
func (db *DB) Prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := db.prepared.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := db.prepared.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// Open connects to url, checks the connection and sizes the pool.
// It does not migrate: call Migrate.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	// Through the deadline connector (deadline.go): a call whose context
	// ends never waits on a silent server.
	connector, err := newDeadlineConnector(url)
	if err != nil {
		return nil, errors.Errorf("open database: %w", err)
	}
	sqldb := sql.OpenDB(connector)
	maxOpen := opts.MaxOpenConns
	if maxOpen == 0 {
		maxOpen = 64
	}
	maxIdle := opts.MaxIdleConns
	if maxIdle == 0 {
		maxIdle = maxOpen
	}
	life := opts.ConnMaxLifetime
	if life == 0 {
		life = 30 * time.Minute
	}
	sqldb.SetMaxOpenConns(maxOpen)
	sqldb.SetMaxIdleConns(maxIdle)
	sqldb.SetConnMaxLifetime(life)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqldb.PingContext(pingCtx); err != nil {
		sqldb.Close()
		return nil, errors.Errorf("connect to database: %w", err)
	}
	return &DB{DB: sqldb, URL: url, Now: time.Now}, nil
}

type migration struct {
	version int
	name    string
	sql     string
}

func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, errors.Errorf("migration %s: name must start with a number and _", e.Name())
		}
		body, err := fs.ReadFile(migrationFS, "migrations/"+e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// LatestVersion is the schema version this binary migrates to.
func LatestVersion() int {
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// Migrate applies the embedded migrations that are not applied yet, each in
// its own transaction. A session advisory lock makes processes that start
// together take turns: the first migrates, the others then find nothing to do.
func (db *DB) Migrate(ctx context.Context, log *slog.Logger) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return errors.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if _, execContextErr := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); execContextErr != nil {
		return errors.Errorf("migrate: take lock: %w", execContextErr)
	}
	defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, migrationLockKey)

	if _, execContextErr := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); execContextErr != nil {
		return errors.Errorf("migrate: %w", execContextErr)
	}
	applied := map[int]bool{}
	rows, err := conn.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return errors.Errorf("migrate: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[v] = true
	}
	rows.Close()
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			tx.Rollback()
			return errors.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`,
			m.version, m.name); err != nil {
			tx.Rollback()
			return errors.Errorf("migration %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return errors.Errorf("migration %s: %w", m.name, err)
		}
		if log != nil {
			log.Info("applied migration", slog.String("name", m.name))
		}
	}
	return nil
}

// Ready reports whether the database answers and the schema is current.
func (db *DB) Ready(ctx context.Context) error {
	var v sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
		return err
	}
	if int(v.Int64) < LatestVersion() {
		return fmt.Errorf("schema at version %d, want %d", v.Int64, LatestVersion())
	}
	return nil
}

// CopyIn writes rows into table with COPY, in tx: the fastest way into
// PostgreSQL for many rows (it is the floor of the bulk benchmarks). For a
// handful of rows a single INSERT costs fewer round trips.
func CopyIn(ctx context.Context, tx *sql.Tx, table string, columns []string, rows [][]any) error {
	quoted := make([]string, len(columns))
	for i, c := range columns {
		quoted[i] = pq.QuoteIdentifier(c)
	}
	stmt, err := tx.PrepareContext(ctx, "COPY "+pq.QuoteIdentifier(table)+" ("+strings.Join(quoted, ", ")+") FROM STDIN")
	if err != nil {
		return err
	}
	for _, r := range rows {
		if _, err := stmt.ExecContext(ctx, r...); err != nil {
			stmt.Close()
			return err
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		stmt.Close()
		return err
	}
	return stmt.Close()
}

// InTx runs fn in one transaction: committed when fn returns nil, rolled
// back otherwise. Every store method that writes goes through it, so that a
// request writes all or nothing.
func (db *DB) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	return nil
}

// Querier is what a read helper runs on: a *sql.Tx when the read is part of
// a caller's transaction, or the *DB itself for a single statement. One
// helper thus serves both, and a package can hand its transaction to
// another package's helper without knowing which it is.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
