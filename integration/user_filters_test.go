package integration

import (
	"strconv"
	"testing"
)

// TestUserListNameAndEmailFilters: GET /api/v1/user filters by a substring
// of the names (first, last, "first last", display name) and of an e-mail
// address, case-insensitively, with X-Total-Count, combined with the other
// filters; LIKE's wildcards are taken literally.
func TestUserListNameAndEmailFilters(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	users(t, root.Do(t, "PUT", "/api/v1/user", `[
		{"user":{"login":"jsmith","first_name":"Jane","last_name":"Smith"},"_emails":[{"email":"jane@example.com"}]},
		{"user":{"login":"bsmith","first_name":"Bob","last_name":"Smithers","displayname":"Bobby"},"_emails":[{"email":"bob@corp.example"}]},
		{"user":{"login":"alee","first_name":"Ann","last_name":"Lee"},"_emails":[{"email":"a_lee@corp.example"},{"email":"ann@home.example"}]},
		{"user":{"login":"plain"}}]`))
	for _, c := range []struct{ query, want string }{
		{"?name=smith", "jsmith,bsmith"},
		{"?name=JANE%20smith", "jsmith"},
		{"?name=bobby", "bsmith"},
		{"?email=corp.EXAMPLE", "bsmith,alee"},
		{"?email=home", "alee"},
		{"?email=a_lee", "alee"},
		{"?email=_", "alee"},
		{"?email=%25", ""},
		{"?name=smith&email=corp", "bsmith"},
		{"?name=smith&login=j", "jsmith"},
		{"?name=nobody", ""},
	} {
		r := root.Do(t, "GET", "/api/v1/user"+c.query, nil)
		got := logins(users(t, r))
		if got != c.want || r.Header.Get("X-Total-Count") != strconv.Itoa(len(users(t, r))) {
			t.Errorf("GET /api/v1/user%s: %q (X-Total-Count %s), want %q", c.query, got, r.Header.Get("X-Total-Count"), c.want)
		}
	}
	MustError(t, root.Do(t, "GET", "/api/v1/user?email=%00", nil), 400, "error.api.invalid_value")
}
