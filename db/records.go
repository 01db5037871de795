package db

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/groupd/groupd/errors"
	"github.com/lib/pq"
)

// The bulk writes of the group and user stores: a fixed number of
// statements whatever the number of rows, each reading its rows from one
// JSON parameter with jsonb_to_recordset, and ids taken ahead from the
// sequences so that a request knows them before it writes.

// Constraints names, for each unique constraint a write may violate, the
// attribute that error.user.integrity_constraint_violation reports.
type Constraints map[string]string

// UniqueViolation is a unique constraint that PostgreSQL refused although
// the store checked the value first: a concurrent request took it. Attribute
// is what Constraints names for the constraint (the constraint's own name
// when it names none). Package errors answers it as
// error.user.integrity_constraint_violation; db builds no easydb error.
type UniqueViolation struct {
	Constraint, Attribute string
	Err                   error // the *pq.Error
}

func (v *UniqueViolation) Error() string {
	return "unique constraint " + v.Constraint + " violated: " + v.Err.Error()
}

// ViolatedAttribute is the attribute whose value was taken.
func (v *UniqueViolation) ViolatedAttribute() string { return v.Attribute }

// Error is err as a *UniqueViolation when it is a unique violation
// (SQLSTATE 23505), else err itself.
func (c Constraints) Error(err error) error {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23505" {
		attr, ok := c[pqErr.Constraint]
		if !ok {
			attr = pqErr.Constraint
		}
		return &UniqueViolation{Constraint: pqErr.Constraint, Attribute: attr, Err: pqErr}
	}
	return err
}

// ExecRecords runs query, prepared once (Prepared: it runs on every write),
// in tx with records as a JSON array in $1 and args after it. A unique
// violation comes back through unique.Error, any other failure as the
// driver's error (package web names the database when it answers one).
func (db *DB) ExecRecords(ctx context.Context, tx *sql.Tx, query string, records any, unique Constraints, args ...any) error {
	stmt, err := db.Prepared(ctx, query)
	if err != nil {
		return err
	}
	b, err := json.Marshal(records)
	if err != nil {
		return errors.Errorf("records: %w", err)
	}
	if string(b) == "null" { // a nil slice: no records
		b = []byte("[]")
	}
	if _, err := tx.StmtContext(ctx, stmt).ExecContext(ctx, append([]any{string(b)}, args...)...); err != nil {
		return unique.Error(err)
	}
	return nil
}

// NextIDs takes n ids from table's identity sequence, ascending. They come
// back as runs of consecutive ids (one run unless concurrent writers took
// ids meanwhile), not a row per id: a bulk of 100,000 ACL entries takes its
// ids in one short answer. The sequence is looked up once (the OFFSET 0
// keeps the lookup out of the per-row expression, where it cost ten times
// the nextval itself); within one statement nextval counts up in
// generate_series' order, so v - i is constant along a run.
func NextIDs(ctx context.Context, tx *sql.Tx, table string, n int) ([]int64, error) {
	if n == 0 {
		return nil, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT min(v), max(v), count(*) FROM (
			SELECT nextval(q.seq) AS v, i
			FROM (SELECT pg_get_serial_sequence($1, 'id')::regclass AS seq OFFSET 0) q, generate_series(1, $2) i) s
		GROUP BY v - i ORDER BY 1`, table, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := make([]int64, 0, n)
	for rows.Next() {
		var first, last, count int64
		if err := rows.Scan(&first, &last, &count); err != nil {
			return nil, err
		}
		if last-first+1 != count {
			return nil, errors.Errorf("%s: ids %d to %d are not a run of %d", table, first, last, count)
		}
		for id := first; id <= last; id++ {
			ids = append(ids, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(ids) != n {
		return nil, errors.Errorf("%s: %d ids taken, %d asked", table, len(ids), n)
	}
	return ids, nil
}
