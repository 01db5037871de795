package kanboard

import (
	"cmp"
	"slices"
)

// sortBy orders items by key in byte order, then by id: Kanboard's ORDER
// BY name (SQLite's BINARY collation), made total.
func sortBy[T any](items []T, key func(T) string, id func(T) int64) {
	slices.SortStableFunc(items, func(a, b T) int {
		if c := cmp.Compare(key(a), key(b)); c != 0 {
			return c
		}
		return cmp.Compare(id(a), id(b))
	})
}
