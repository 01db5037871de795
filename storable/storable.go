// Package storable holds the checks that a client's text or JSON value can
// be stored in PostgreSQL as it is (valid UTF-8, no NUL), so that what the
// database would refuse is answered as the client's mistake instead of a
// database error. It imports nothing above errors: request decoding (input)
// and the rights vocabulary (rights) both use it.
package storable

import (
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/groupd/groupd/errors"
)

// Text reports whether PostgreSQL can hold s in a text or jsonb value:
// valid UTF-8 without NUL (PostgreSQL refuses both, and would answer a
// database error for what is the client's mistake).
func Text(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// JSON refuses a string or object key holding NUL anywhere in v, a
// decoded JSON value stored as jsonb (PostgreSQL's jsonb cannot hold
// \u0000), naming the path of the first one found in key order.
func JSON(v any, path string) error {
	switch x := v.(type) {
	case string:
		if strings.IndexByte(x, 0) >= 0 {
			return errors.InvalidValue(path, "NUL characters (\\u0000) are not allowed")
		}
	case []any:
		for i, e := range x {
			if err := JSON(e, path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if strings.IndexByte(k, 0) >= 0 {
				return errors.InvalidValue(path, "NUL characters (\\u0000) are not allowed in keys")
			}
			if err := JSON(x[k], path+"."+k); err != nil {
				return err
			}
		}
	}
	return nil
}
