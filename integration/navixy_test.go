package integration

// The Navixy surface (issue 18) over real HTTP: every action, every error
// code, the three request forms (JSON body, form body with JSON-encoded
// arrays, GET query), paths with and without a trailing slash, and the hash
// as a parameter, in the query string and as "Authorization: NVX <hash>".
// Every exchange is validated against the OpenAPI document (Server.Do).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/groupd/groupd/navixy"
	"github.com/groupd/groupd/openapi"
	"github.com/groupd/groupd/server"
)

// nvxAnswer is any Navixy answer, as a client decodes it.
type nvxAnswer struct {
	Success bool            `json:"success"`
	Hash    string          `json:"hash"`
	ID      int64           `json:"id"`
	List    json.RawMessage `json:"list"`
	Status  struct {
		Code        int    `json:"code"`
		Description string `json:"description"`
	} `json:"status"`
	Errors []struct {
		Parameter string `json:"parameter"`
		Error     string `json:"error"`
	} `json:"errors"`
}

// nvxResult is a Navixy exchange: the response and its decoded answer.
type nvxResult struct {
	*Response
	nvxAnswer
}

// nvxPost sends params as a JSON body to /navixy/v2/<action>.
func nvxPost(tb testing.TB, s *Server, action string, params map[string]any, header ...string) nvxResult {
	tb.Helper()
	var body any
	if params != nil {
		body = params
	}
	return nvxDecode(tb, s.Do(tb, "POST", "/navixy/v2/"+action, body, header...))
}

// nvxForm sends form as a form body, as Navixy's JS SDK does.
func nvxForm(tb testing.TB, s *Server, action string, form url.Values, header ...string) nvxResult {
	tb.Helper()
	h := append([]string{"Content-Type", "application/x-www-form-urlencoded"}, header...)
	return nvxDecode(tb, s.Do(tb, "POST", "/navixy/v2/"+action, form.Encode(), h...))
}

// nvxGet sends q in the query string of a GET.
func nvxGet(tb testing.TB, s *Server, action string, q url.Values, header ...string) nvxResult {
	tb.Helper()
	return nvxDecode(tb, s.Do(tb, "GET", "/navixy/v2/"+action+"?"+q.Encode(), nil, header...))
}

func nvxDecode(tb testing.TB, r *Response) nvxResult {
	tb.Helper()
	var a nvxAnswer
	r.JSON(tb, &a)
	return nvxResult{r, a}
}

// nvxOK asserts a success.
func nvxOK(tb testing.TB, x nvxResult) nvxAnswer {
	tb.Helper()
	r, a := x.Response, x.nvxAnswer
	if r.StatusCode != 200 || !a.Success {
		tb.Fatalf("want success, got %d %s", r.StatusCode, r.Body)
	}
	return a
}

// nvxFail asserts Navixy's error with code and HTTP status.
func nvxFail(tb testing.TB, x nvxResult, status, code int) nvxAnswer {
	tb.Helper()
	r, a := x.Response, x.nvxAnswer
	if r.StatusCode != status || a.Success || a.Status.Code != code || a.Status.Description == "" {
		tb.Fatalf("want %d with code %d, got %d %s", status, code, r.StatusCode, r.Body)
	}
	if (code == 7) != (len(a.Errors) > 0) {
		tb.Fatalf("errors must be listed for code 7 only: %s", r.Body)
	}
	return a
}

// nvxLogin runs user/auth and returns the hash.
func nvxLogin(tb testing.TB, s *Server, login, password string) string {
	tb.Helper()
	a := nvxOK(tb, nvxPost(tb, s, "user/auth", map[string]any{"login": login, "password": password}))
	if a.Hash == "" {
		tb.Fatal("user/auth answered no hash")
	}
	return a.Hash
}

type nvxGroup struct {
	ID    int64   `json:"id"`
	Title string  `json:"title"`
	Color *string `json:"color"`
}

// nvxGroups is tracker/group/list, by id.
func nvxGroups(tb testing.TB, s *Server, hash string) map[int64]nvxGroup {
	tb.Helper()
	return nvxByID(tb, nvxOK(tb, nvxPost(tb, s, "tracker/group/list", map[string]any{"hash": hash})).List,
		func(g nvxGroup) int64 { return g.ID })
}

// nvxByID decodes a list answer into its items by id.
func nvxByID[T any](tb testing.TB, list json.RawMessage, id func(T) int64) map[int64]T {
	tb.Helper()
	var items []T
	if err := json.Unmarshal(list, &items); err != nil {
		tb.Fatal(err)
	}
	out := map[int64]T{}
	for _, it := range items {
		out[id(it)] = it
	}
	return out
}

func TestNavixyAuth(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t, func(c *server.Config) { c.LoginMaxFailures = 2 })
	uid := s.MustCreateUser(t, "driver", `{"system.group": {}}`)
	if _, err := s.DB.Exec(`INSERT INTO user_emails (user_id, position, email, use_for_login) VALUES ($1, 0, 'Driver@Example.com', true)`, uid); err != nil {
		t.Fatal(err)
	}

	// By login, with a JSON body; by login e-mail, with a form; by GET.
	hash := nvxLogin(t, s, "driver", "pw-driver")
	nvxOK(t, nvxForm(t, s, "user/auth", url.Values{"login": {"driver@example.com"}, "password": {"pw-driver"}}))
	nvxOK(t, nvxGet(t, s, "user/auth/", url.Values{"login": {"driver"}, "password": {"pw-driver"}}))

	// The hash is a groupd session: the easydb API takes it too.
	if r := s.Do(t, "GET", "/api/v1/session", nil, "x-easydb-token", hash); r.StatusCode != 200 || !strings.Contains(string(r.Body), `"login":"driver"`) {
		t.Fatalf("the hash as an easydb token: %d %s", r.StatusCode, r.Body)
	}

	// The hash as a parameter (JSON, form, query) and as Authorization: NVX.
	nvxOK(t, nvxPost(t, s, "tracker/group/list", map[string]any{"hash": hash}))
	nvxOK(t, nvxForm(t, s, "tracker/group/list/", url.Values{"hash": {hash}}))
	nvxOK(t, nvxGet(t, s, "tracker/group/list", url.Values{"hash": {hash}}))
	nvxOK(t, nvxPost(t, s, "tracker/group/list", nil, "Authorization", "NVX "+hash))
	nvxOK(t, nvxGet(t, s, "tracker/group/list/", nil, "Authorization", "nvx "+hash))

	// 3: no hash; 4: a hash that is no session.
	nvxFail(t, nvxPost(t, s, "tracker/group/list", map[string]any{}), 400, 3)
	nvxFail(t, nvxGet(t, s, "tracker/group/list", nil, "Authorization", "Bearer "+hash), 400, 3)
	nvxFail(t, nvxPost(t, s, "tracker/group/list", map[string]any{"hash": "a6aa75587e5c59c32d347da438505fc3"}), 400, 4)
	nvxFail(t, nvxGet(t, s, "tracker/group/list", nil, "Authorization", "NVX "+strings.Repeat("A", 43)), 400, 4)

	// 102: wrong password, unknown login; 7: a parameter missing or of the wrong type.
	nvxFail(t, nvxPost(t, s, "user/auth", map[string]any{"login": "driver", "password": "wrong"}), 400, 102)
	nvxFail(t, nvxPost(t, s, "user/auth", map[string]any{"login": "nobody", "password": "wrong"}), 400, 102)
	nvxFail(t, nvxPost(t, s, "user/auth", map[string]any{"login": "driver", "password": ""}), 400, 102)
	a := nvxFail(t, nvxPost(t, s, "user/auth", map[string]any{"password": "pw-driver"}), 400, 7)
	if a.Errors[0].Parameter != "login" {
		t.Errorf("errors: %+v, want the parameter login", a.Errors)
	}
	a = nvxFail(t, nvxPost(t, s, "user/auth", map[string]any{"login": 5, "password": "x"}), 400, 7)
	if a.Errors[0].Parameter != "login" {
		t.Errorf("errors: %+v, want the parameter login", a.Errors)
	}
	// 5: a body that cannot be read.
	nvxFail(t, nvxDecode(t, s.Do(t, "POST", "/navixy/v2/user/auth", `{"login":`)), 400, 5)
	nvxFail(t, nvxDecode(t, s.Do(t, "POST", "/navixy/v2/user/auth", "%zz", "Content-Type", "application/x-www-form-urlencoded")), 400, 5)

	// 105: groupd's lockout, after LoginMaxFailures failures of a login
	// that never logged in from here; the right password is refused too.
	s.MustCreateUser(t, "locked", "")
	for i := 0; i < 2; i++ {
		nvxFail(t, nvxPost(t, s, "user/auth", map[string]any{"login": "locked", "password": "wrong"}), 400, 102)
	}
	nvxFail(t, nvxPost(t, s, "user/auth", map[string]any{"login": "locked", "password": "pw-locked"}), 400, 105)

	// 103: a user that may not log in.
	s.MustCreateUser(t, "disabled", "")
	if _, err := s.DB.Exec(`UPDATE users SET login_disabled = true WHERE login = 'disabled'`); err != nil {
		t.Fatal(err)
	}
	nvxFail(t, nvxPost(t, s, "user/auth", map[string]any{"login": "disabled", "password": "pw-disabled"}), 400, 103)

	// user/logout ends the session: the hash is 4 from then on.
	other := nvxLogin(t, s, "driver", "pw-driver")
	nvxOK(t, nvxPost(t, s, "user/logout", nil, "Authorization", "NVX "+hash))
	nvxFail(t, nvxPost(t, s, "tracker/group/list", map[string]any{"hash": hash}), 400, 4)
	nvxFail(t, nvxPost(t, s, "user/logout", map[string]any{"hash": hash}), 400, 4)
	nvxOK(t, nvxPost(t, s, "tracker/group/list", map[string]any{"hash": other})) // other sessions live on

	// A personal API token is a hash too; a read-only one may not write (13).
	driver := s.LoginAs(t, "driver")
	ro := createAPIToken(t, driver, `{"name":"map","scope":{"read_only":true}}`)
	nvxOK(t, nvxPost(t, s, "tracker/group/list", map[string]any{"hash": ro.Secret}))
	nvxFail(t, nvxPost(t, s, "tracker/group/create", map[string]any{"color": "FF6DDC", "title": "x"}, "Authorization", "NVX "+ro.Secret), 403, 13)

	// The trailing slash works on every action, and other methods are not Navixy's.
	nvxOK(t, nvxPost(t, s, "user/logout/", map[string]any{"hash": other}))
	if r := s.Do(t, "PUT", "/navixy/v2/user/auth", "{}"); r.StatusCode != 400 {
		t.Errorf("PUT: %d %s", r.StatusCode, r.Body)
	}
}

func TestNavixyTrackerGroups(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := nvxLogin(t, s, "root", RootPassword)
	rootAPI := s.Root(t)

	// create: JSON, form, GET; the answer is the group's id.
	g1 := nvxOK(t, nvxPost(t, s, "tracker/group/create", map[string]any{"hash": root, "title": "Employees", "color": "FF6DDC"})).ID
	g2 := nvxOK(t, nvxForm(t, s, "tracker/group/create/", url.Values{"hash": {root}, "title": {"Trucks"}, "color": {"00aa11"}})).ID
	long := strings.Repeat("é", 60) // 60 characters, 120 bytes
	g3 := nvxOK(t, nvxGet(t, s, "tracker/group/create", url.Values{"hash": {root}, "title": {long}, "color": {"000000"}})).ID
	groups := nvxGroups(t, s, root)
	for id, want := range map[int64][2]string{g1: {"Employees", "FF6DDC"}, g2: {"Trucks", "00aa11"}, g3: {long, "000000"}} {
		if g := groups[id]; g.Title != want[0] || g.Color == nil || *g.Color != want[1] {
			t.Errorf("group %d listed as %+v, want %v", id, g, want)
		}
	}
	// System groups (:all, :non_system) are never listed, as group 0 is not.
	for id := range groups {
		if id == 1 || id == 2 {
			t.Errorf("system group %d listed", id)
		}
	}
	// The colour is a groupd field, readable through /api/v1/group.
	var full []struct {
		Group struct {
			Name  string  `json:"name"`
			Color *string `json:"color"`
		} `json:"group"`
	}
	rootAPI.Do(t, "GET", "/api/v1/group/"+strconv.FormatInt(g1, 10), nil).JSON(t, &full)
	if len(full) != 1 || full[0].Group.Name != "Employees" || full[0].Group.Color == nil || *full[0].Group.Color != "FF6DDC" {
		t.Fatalf("GET /api/v1/group/%d: %+v", g1, full)
	}

	// 7: missing or invalid title and colour, each named.
	for _, c := range []struct {
		params map[string]any
		param  string
	}{
		{map[string]any{"color": "FF6DDC"}, "title"},
		{map[string]any{"title": "x"}, "color"},
		{map[string]any{"title": "", "color": "FF6DDC"}, "title"},
		{map[string]any{"title": strings.Repeat("é", 61), "color": "FF6DDC"}, "title"},
		{map[string]any{"title": "tab\there", "color": "FF6DDC"}, "title"},
		{map[string]any{"title": "x", "color": "#FF6DDC"}, "color"},
		{map[string]any{"title": "x", "color": "GG0000"}, "color"},
		{map[string]any{"title": 7, "color": "FF6DDC"}, "title"},
	} {
		c.params["hash"] = root
		a := nvxFail(t, nvxPost(t, s, "tracker/group/create", c.params), 400, 7)
		if a.Errors[0].Parameter != c.param {
			t.Errorf("%v: errors %+v, want %s", c.params, a.Errors, c.param)
		}
	}
	// 247: groupd names are unique, so a title another group has is refused.
	nvxFail(t, nvxPost(t, s, "tracker/group/create", map[string]any{"hash": root, "title": "Employees", "color": "FF6DDC"}), 400, 247)

	// update: all three parameters; the form carries the id as digits.
	nvxOK(t, nvxForm(t, s, "tracker/group/update", url.Values{"hash": {root}, "id": {strconv.FormatInt(g1, 10)}, "title": {"Staff"}, "color": {"123456"}}))
	if g := nvxGroups(t, s, root)[g1]; g.Title != "Staff" || *g.Color != "123456" {
		t.Errorf("after update: %+v", g)
	}
	nvxFail(t, nvxPost(t, s, "tracker/group/update", map[string]any{"hash": root, "id": g1, "title": "Trucks", "color": "123456"}), 400, 247)
	nvxFail(t, nvxPost(t, s, "tracker/group/update", map[string]any{"hash": root, "id": g1, "title": "x"}), 400, 7)
	nvxFail(t, nvxPost(t, s, "tracker/group/update", map[string]any{"hash": root, "id": "one", "title": "x", "color": "123456"}), 400, 7)
	nvxFail(t, nvxPost(t, s, "tracker/group/update", map[string]any{"hash": root, "id": -1, "title": "x", "color": "123456"}), 400, 7)
	// 201 (HTTP 403): an unknown group, group 0, a system group.
	for _, id := range []int64{999999, 0, 1} {
		nvxFail(t, nvxPost(t, s, "tracker/group/update", map[string]any{"hash": root, "id": id, "title": "x", "color": "123456"}), 403, 201)
		nvxFail(t, nvxPost(t, s, "tracker/group/delete", map[string]any{"hash": root, "id": id}), 403, 201)
	}

	// Rights are the core's: a user without system.group may not list (13),
	// nor create without system.group's create (13); a group it cannot see
	// is 201, one it may read but not write is 13.
	s.MustCreateUser(t, "nobody", "")
	nobody := nvxLogin(t, s, "nobody", "pw-nobody")
	nvxFail(t, nvxPost(t, s, "tracker/group/list", map[string]any{"hash": nobody}), 403, 13)
	nvxFail(t, nvxPost(t, s, "tracker/group/create", map[string]any{"hash": nobody, "title": "Mine", "color": "FF6DDC"}), 403, 13)
	readerID := s.MustCreateUser(t, "reader", `{"system.group": {}}`)
	s.AddMember(t, g2, readerID) // a member of an easydb group may read it
	reader := nvxLogin(t, s, "reader", "pw-reader")
	if got := nvxGroups(t, s, reader); len(got) != 1 || got[g2].Title != "Trucks" {
		t.Errorf("reader sees %+v, want only group %d", got, g2)
	}
	nvxFail(t, nvxPost(t, s, "tracker/group/update", map[string]any{"hash": reader, "id": g2, "title": "x", "color": "123456"}), 403, 13)
	nvxFail(t, nvxPost(t, s, "tracker/group/delete", map[string]any{"hash": reader, "id": g2}), 403, 13)
	nvxFail(t, nvxPost(t, s, "tracker/group/update", map[string]any{"hash": reader, "id": g1, "title": "x", "color": "123456"}), 403, 201)
	nvxFail(t, nvxPost(t, s, "tracker/group/delete", map[string]any{"hash": reader, "id": g1}), 403, 201)
	// A creator (system.group create) owns what it creates and may change it.
	s.MustCreateUser(t, "creator", `{"system.group": {"create": true}}`)
	creator := nvxLogin(t, s, "creator", "pw-creator")
	mine := nvxOK(t, nvxPost(t, s, "tracker/group/create", map[string]any{"hash": creator, "title": "Mine", "color": "ABCDEF"})).ID
	nvxOK(t, nvxPost(t, s, "tracker/group/update", map[string]any{"hash": creator, "id": mine, "title": "Mine 2", "color": "ABCDEF"}))
	nvxOK(t, nvxPost(t, s, "tracker/group/delete", map[string]any{"hash": creator, "id": mine}))

	// delete: JSON and GET; the group is gone from the list and the API.
	nvxOK(t, nvxGet(t, s, "tracker/group/delete/", url.Values{"hash": {root}, "id": {strconv.FormatInt(g3, 10)}}))
	if _, ok := nvxGroups(t, s, root)[g3]; ok {
		t.Errorf("group %d still listed after delete", g3)
	}
	if r := rootAPI.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d", g3), nil); string(r.Body) != "[]\n" {
		t.Errorf("GET /api/v1/group/%d after delete: %s", g3, r.Body)
	}
	nvxFail(t, nvxPost(t, s, "tracker/group/delete", map[string]any{"hash": root, "id": g3}), 403, 201)
}

// TestGroupColorEasydb: color is a field of the easydb group format.
func TestGroupColorEasydb(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := s.Root(t)
	var out []struct {
		Group struct {
			ID      int64   `json:"_id"`
			Version int64   `json:"_version"`
			Color   *string `json:"color"`
		} `json:"group"`
	}
	r := root.Do(t, "PUT", "/api/v1/group", `[{"group":{"name":"painted","color":"a0B1c2"}}]`)
	r.JSON(t, &out)
	if r.StatusCode != 200 || out[0].Group.Color == nil || *out[0].Group.Color != "a0B1c2" {
		t.Fatalf("PUT with color: %d %s", r.StatusCode, r.Body)
	}
	id := out[0].Group.ID
	// Absent keeps it, null clears it.
	r = root.Do(t, "POST", "/api/v1/group", fmt.Sprintf(`[{"group":{"_id":%d,"_version":2,"comment":"c"}}]`, id))
	r.JSON(t, &out)
	if out[0].Group.Color == nil || *out[0].Group.Color != "a0B1c2" {
		t.Fatalf("POST without color: %s", r.Body)
	}
	r = root.Do(t, "POST", "/api/v1/group", fmt.Sprintf(`[{"group":{"_id":%d,"_version":3,"color":null}}]`, id))
	r.JSON(t, &out)
	if out[0].Group.Color != nil {
		t.Fatalf("POST with color null: %s", r.Body)
	}
	for bad, code := range map[string]string{`"#a0b1c2"`: "error.api.invalid_value", `"a0b1c"`: "error.api.invalid_value",
		`"zzzzzz"`: "error.api.invalid_value", `5`: "error.api.type_mismatch"} {
		e := MustError(t, root.Do(t, "PUT", "/api/v1/group", `[{"group":{"name":"bad","color":`+bad+`}}]`), http.StatusBadRequest, code)
		if e.Parameters["attribute"] != "group.color" {
			t.Errorf("color %s: %+v", bad, e)
		}
	}
}

type nvxTracker struct {
	ID      int64  `json:"id"`
	Label   string `json:"label"`
	GroupID int64  `json:"group_id"`
}

// nvxTrackers is tracker/list, by id.
func nvxTrackers(tb testing.TB, s *Server, hash string) map[int64]nvxTracker {
	tb.Helper()
	return nvxByID(tb, nvxOK(tb, nvxGet(tb, s, "tracker/list", url.Values{"hash": {hash}})).List,
		func(tr nvxTracker) int64 { return tr.ID })
}

// groupOf is the tracker's group as /api/v1/object/<id> shows it (0: none).
func groupOf(tb testing.TB, c *Client, id int64) int64 {
	tb.Helper()
	os := objects(tb, c.Do(tb, "GET", fmt.Sprintf("/api/v1/object/%d", id), nil))
	if len(os) != 1 {
		tb.Fatalf("GET /api/v1/object/%d: %d items", id, len(os))
	}
	if os[0].Group == nil {
		return 0
	}
	return os[0].Group.ID
}

func idsJSON(ids []int64) string {
	b, _ := json.Marshal(ids)
	return string(b)
}

func TestNavixyTrackers(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)
	root := nvxLogin(t, s, "root", RootPassword)
	rootAPI := s.Root(t)

	// 1,000 trackers, made through the object API, and one object of another kind.
	var items []string
	for i := 0; i < 1000; i++ {
		items = append(items, fmt.Sprintf(`{"object":{"kind":"navixy.tracker","name":"truck %d"}}`, i))
	}
	items = append(items, `{"object":{"kind":"noko.project","name":"not a tracker"}}`)
	made := objects(t, rootAPI.Do(t, "PUT", "/api/v1/object", "["+strings.Join(items, ",")+"]"))
	trackers, project := objectIDs(made[:1000]), made[1000].Object.ID

	list := nvxTrackers(t, s, root)
	if len(list) != 1000 || list[trackers[7]].Label != "truck 7" || list[trackers[7]].GroupID != 0 {
		t.Fatalf("tracker/list: %d trackers, tracker %d is %+v", len(list), trackers[7], list[trackers[7]])
	}
	if _, listed := list[project]; listed {
		t.Fatalf("an object of kind noko.project is listed as a tracker")
	}

	g1 := nvxOK(t, nvxPost(t, s, "tracker/group/create", map[string]any{"hash": root, "title": "North", "color": "FF0000"})).ID
	g2 := nvxOK(t, nvxPost(t, s, "tracker/group/create", map[string]any{"hash": root, "title": "South", "color": "00FF00"})).ID

	// assign in the three forms, with and without the trailing slash.
	nvxOK(t, nvxPost(t, s, "tracker/group/assign", map[string]any{"hash": root, "id": g1, "trackers": trackers[0:2]}))
	nvxOK(t, nvxForm(t, s, "tracker/group/assign/", url.Values{"hash": {root}, "id": {strconv.FormatInt(g2, 10)},
		"trackers": {idsJSON(trackers[2:3])}}))
	nvxOK(t, nvxGet(t, s, "tracker/group/assign", url.Values{"id": {strconv.FormatInt(g2, 10)}, "trackers": {idsJSON(trackers[3:4])}},
		"Authorization", "NVX "+root))
	list = nvxTrackers(t, s, root)
	for i, want := range []int64{g1, g1, g2, g2, 0} {
		if got := list[trackers[i]].GroupID; got != want {
			t.Errorf("tracker %d: group_id %d, want %d", i, got, want)
		}
	}
	if got := groupOf(t, rootAPI, trackers[2]); got != g2 {
		t.Errorf("/api/v1/object/%d: group %d, want %d", trackers[2], got, g2)
	}

	// All or nothing: one unknown tracker among 1,000 is 217 and moves nothing;
	// so is one object of another kind.
	withUnknown := append(append([]int64{}, trackers[:999]...), 999999999)
	nvxFail(t, nvxPost(t, s, "tracker/group/assign", map[string]any{"hash": root, "id": g1, "trackers": withUnknown}), 403, 217)
	nvxFail(t, nvxPost(t, s, "tracker/group/assign", map[string]any{"hash": root, "id": g1, "trackers": []int64{trackers[9], project}}), 403, 217)
	list = nvxTrackers(t, s, root)
	moved := 0
	for i, id := range trackers {
		if want := map[int]int64{0: g1, 1: g1, 2: g2, 3: g2}[i]; list[id].GroupID != want {
			moved++
		}
	}
	if moved != 0 {
		t.Fatalf("a refused assign moved %d trackers", moved)
	}
	if got := groupOf(t, rootAPI, trackers[500]); got != 0 {
		t.Fatalf("/api/v1/object/%d after a refused assign: group %d", trackers[500], got)
	}

	// Then all 1,000 at once; then id 0 takes one out of any group.
	nvxOK(t, nvxPost(t, s, "tracker/group/assign", map[string]any{"hash": root, "id": g1, "trackers": trackers}))
	nvxOK(t, nvxPost(t, s, "tracker/group/assign", map[string]any{"hash": root, "id": 0, "trackers": trackers[999:]}))
	list = nvxTrackers(t, s, root)
	if list[trackers[500]].GroupID != g1 || list[trackers[999]].GroupID != 0 {
		t.Fatalf("after assigning all: %+v, %+v", list[trackers[500]], list[trackers[999]])
	}
	nvxOK(t, nvxPost(t, s, "tracker/group/assign", map[string]any{"hash": root, "id": g2, "trackers": []int64{}}))

	// 201: an unknown group, a system group; 7: trackers missing or no array of integers.
	nvxFail(t, nvxPost(t, s, "tracker/group/assign", map[string]any{"hash": root, "id": 999999, "trackers": trackers[:1]}), 403, 201)
	nvxFail(t, nvxPost(t, s, "tracker/group/assign", map[string]any{"hash": root, "id": 1, "trackers": trackers[:1]}), 403, 201)
	for _, bad := range []any{nil, "1,2", []any{"1"}, []any{1.5}, map[string]any{}} {
		p := map[string]any{"hash": root, "id": g1}
		if bad != nil {
			p["trackers"] = bad
		}
		a := nvxFail(t, nvxPost(t, s, "tracker/group/assign", p), 400, 7)
		if !strings.HasPrefix(a.Errors[0].Parameter, "trackers") {
			t.Errorf("trackers %v: errors %+v", bad, a.Errors)
		}
	}
	nvxFail(t, nvxForm(t, s, "tracker/group/assign", url.Values{"hash": {root}, "id": {"1"}, "trackers": {"1,2"}}), 400, 7)

	// Rights are the object core's. A member of South with system.group sees
	// South and its trackers only; moving needs link/unlink on the groups.
	readerID := s.MustCreateUser(t, "dispatcher", `{"system.group": {}}`)
	s.AddMember(t, g2, readerID)
	nvxOK(t, nvxPost(t, s, "tracker/group/assign", map[string]any{"hash": root, "id": g2, "trackers": trackers[:3]}))
	reader := nvxLogin(t, s, "dispatcher", "pw-dispatcher")
	if got := nvxTrackers(t, s, reader); len(got) != 3 || got[trackers[0]].GroupID != g2 {
		t.Fatalf("the dispatcher sees %v, want the 3 trackers of South", got)
	}
	nvxFail(t, nvxPost(t, s, "tracker/group/assign", map[string]any{"hash": reader, "id": g1, "trackers": trackers[:1]}), 403, 201)
	nvxFail(t, nvxPost(t, s, "tracker/group/assign", map[string]any{"hash": reader, "id": 0, "trackers": trackers[:1]}), 403, 13)
	nvxFail(t, nvxPost(t, s, "tracker/group/assign", map[string]any{"hash": reader, "id": g2, "trackers": trackers[3:4]}), 403, 217)

	// Deleting a group ungroups its trackers, in its transaction: tracker/list
	// and /api/v1/object say group 0 / no group, and the other group keeps its own.
	nvxOK(t, nvxPost(t, s, "tracker/group/delete", map[string]any{"hash": root, "id": g1}))
	list = nvxTrackers(t, s, root)
	for _, i := range []int{3, 500, 998} {
		if list[trackers[i]].GroupID != 0 {
			t.Errorf("tracker %d of the deleted group: group_id %d", i, list[trackers[i]].GroupID)
		}
	}
	if list[trackers[0]].GroupID != g2 {
		t.Errorf("a tracker of South: group_id %d, want %d", list[trackers[0]].GroupID, g2)
	}
	if got := groupOf(t, rootAPI, trackers[500]); got != 0 {
		t.Errorf("/api/v1/object/%d after its group's delete: group %d", trackers[500], got)
	}
}

// TestNavixyHostileInput is the generated hostile-input test
// (generated_test.go) for the Navixy surface: every parameter and body field
// of every /navixy/v2/ operation in the OpenAPI document receives every
// hostile value, with a live hash in the query string (except where the hash
// itself is the field, and for user/auth, which takes none); the answer must
// be a success or Navixy's typed 4xx, never a 5xx. A path with a trailing
// slash is the same operation as the one without, served by the same
// handler, and is left out.
func TestNavixyHostileInput(t *testing.T) {
	t.Parallel()
	// One failed login blocks a login: the login fields are then answered
	// without an argon2 hash each.
	s := MustStartServer(t, func(c *server.Config) { c.LoginMaxFailures = 1 })
	root := nvxLogin(t, s, "root", RootPassword)
	logout := nvxLogin(t, s, "root", RootPassword) // user/logout ends this one, not root
	doc, err := openapi.Parse()
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range doc.Paths.InMatchingOrder() {
		if !strings.HasPrefix(path, navixy.Prefix) || strings.HasSuffix(path, "/") {
			doc.Paths.Delete(path)
		}
	}
	fields := openapiFields(t, doc, func(string) string { return "" })
	for i, f := range fields {
		build, hash := f.Request, root
		if strings.Contains(f.Operation, "/user/logout") {
			hash = logout
		}
		public := strings.Contains(f.Operation, "/user/auth")
		isHash := strings.HasSuffix(f.Name, " hash")
		fields[i].Typed = navixyTyped
		fields[i].Request = func(v []byte) hostileRequest {
			req := build(v)
			if !public && !isHash {
				sep := "?"
				if strings.Contains(req.Path, "?") {
					sep = "&"
				}
				req.Path += sep + "hash=" + url.QueryEscape(hash)
			}
			return req
		}
	}
	ops := map[string]bool{}
	triples := 0
	for _, f := range fields {
		ops[f.Operation] = true
		triples += len(f.values())
	}
	if len(ops) != 16 { // 8 actions, GET and POST
		t.Fatalf("%d Navixy operations in the document, want 16", len(ops))
	}
	res := runHostile(t, s, fields, 4)
	t.Logf("%d (operation, field, value) triples over %d operations and %d fields: %d accepted, %d refused with a typed 4xx, %d failures (5xx or untyped)",
		res.sent.Load(), len(ops), len(fields), res.ok.Load(), res.refused.Load(), len(res.failures))
	if int(res.sent.Load()) != triples {
		t.Errorf("sent %d of %d", res.sent.Load(), triples)
	}
	// The server still answers: nothing above broke it.
	nvxOK(t, nvxPost(t, s, "tracker/group/list", map[string]any{"hash": root}))
}

// navixyTyped reports whether body is Navixy's error: success false and a
// status with a code and a description.
func navixyTyped(body []byte) bool {
	var a nvxAnswer
	return json.Unmarshal(body, &a) == nil && !a.Success && a.Status.Code > 0 && a.Status.Description != "" &&
		bytes.Contains(body, []byte(`"success":false`))
}

// TestNavixyTooManyRequests: more new sessions from one address than
// -new-sessions-per-minute is code 15 with HTTP 429, and the rest of the
// minute's logins are refused without a password check.
func TestNavixyTooManyRequests(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t, func(c *server.Config) { c.NewSessionsPerMinute = 2 })
	s.MustCreateUser(t, "driver", "")
	nvxLogin(t, s, "driver", "pw-driver")
	nvxLogin(t, s, "driver", "pw-driver")
	a := nvxFail(t, nvxPost(t, s, "user/auth", map[string]any{"login": "driver", "password": "pw-driver"}), 429, 15)
	if !strings.Contains(a.Status.Description, "try again after") {
		t.Errorf("description %q does not say when to try again", a.Status.Description)
	}
}
