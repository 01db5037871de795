package db

import (
	"database/sql"
	"strconv"
	"strings"
)

// Args are the parameters of a statement being built: Add appends one and
// returns its placeholder ($n), so that a condition names its parameter
// where it is written.
type Args []any

// Add appends v and returns its placeholder.
func (a *Args) Add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// Collect reads every row of rows with scan, and closes rows before it
// returns (a transaction's next statement needs the connection). No rows
// is an empty slice, never nil (a listing's JSON is [], not null).
func Collect[T any](rows *sql.Rows, scan func(*sql.Rows) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// likeEscaper escapes LIKE's wildcards and its escape character.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// EscapeLike is s as a LIKE or ILIKE pattern that matches s itself: a
// filter's % and _ are text, not wildcards.
func EscapeLike(s string) string { return likeEscaper.Replace(s) }
