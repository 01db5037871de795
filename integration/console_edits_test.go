package integration

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/groupd/groupd/db/dbtest"
	"github.com/groupd/groupd/server"
)

// TestConsoleEdits is the console's scenario of typed work and finding
// users, in a real browser: user1 is found among user1000..user1999 (the
// member filter and the add-member picker); Back returns to the previous
// page and filter of the list; an unsaved Details edit survives an ACL save;
// leaving with unsaved edits asks first (a link, Back, and beforeunload);
// an edit interrupted by a revoked session is kept across the sign-in, the
// page says it was not saved, and it is saved afterwards; a success message
// does not follow to another group; and no token is ever in the page or its
// address.
func TestConsoleEdits(t *testing.T) {
	b := newBrowser(t)
	s := MustStartServer(t)
	root := s.Root(t)

	// 1,000 logins start with "user1" and were created before user1 itself.
	if _, err := s.DB.Exec(`INSERT INTO users (login, owner_user_id) SELECT 'user' || i, 1 FROM generate_series(1000, 1999) i`); err != nil {
		t.Fatal(err)
	}
	user1 := s.MustCreateUser(t, "user1", `{}`)
	bulkGroups(t, s, 120)
	created := groups(t, root.Do(t, "PUT", "/api/v1/group", `[{"group":{"name":"team","comment":"first"}},
		{"group":{"name":"readers"}}, {"group":{"name":"elsewhere"}}]`))
	team, readers, elsewhere := created[0].Group.ID, created[1].Group.ID, created[2].Group.ID
	s.AddMember(t, team, user1)

	admin := b.tab("root", 1280, 800)
	var tokens []string
	noToken := func(step string) {
		t.Helper()
		for _, tok := range tokens {
			if len(tok) < 20 {
				t.Fatalf("%s: implausible token %q", step, tok)
			}
			got := admin.eval(fmt.Sprintf(`(() => { const t = %q;
				const inputs = [...document.querySelectorAll('input, textarea')].some(e => e.value.includes(t));
				return String(document.documentElement.outerHTML.includes(t) || location.href.includes(t) || inputs) })()`, tok))
			if got != "false" {
				t.Fatalf("%s: a session token is in the page or its address", step)
			}
		}
	}
	admin.do(chromedp.Navigate(s.URL() + "/console/"))
	admin.login("root", RootPassword)
	tokens = append(tokens, admin.eval(`sessionStorage.getItem('groupd.console.token')`))
	admin.waitList()
	noToken("the list")

	// --- Back returns to the previous page of the list, then the filter --
	admin.click("#groups-pager .pager-next")
	admin.waitFor(`document.querySelector('#groups-summary').textContent.startsWith('Groups 51–100')`, "page 2")
	admin.fill("#filter-name", "bulk-00000")
	admin.waitFor(`document.querySelector('#groups-summary').dataset.total === '9'`, "name filter: 9 matches")
	admin.eval(`history.back(), ''`)
	admin.waitList()
	admin.waitFor(`document.querySelector('#groups-summary').textContent.startsWith('Groups 51–100') &&
		document.querySelector('#filter-name').value === ''`, "Back: page 2 without the filter")
	admin.eval(`history.back(), ''`)
	admin.waitFor(`document.querySelector('#groups-summary') && document.querySelector('#groups-summary').textContent.startsWith('Groups 1–50')`,
		"Back again: page 1")
	if !strings.Contains(admin.eval(`location.href`), "/console/") {
		t.Fatalf("Back left the console: %s", admin.eval(`location.href`))
	}

	// --- user1 among user1000..user1999 ----------------------------------
	admin.fill("#filter-member", "user1")
	admin.waitFor(`[...document.querySelectorAll('#groups-body tr')].some(r => r.dataset.name === 'team')`, "member filter finds user1")
	if admin.eval(`!!document.querySelector('#groups-errors .alert')`) != "false" {
		t.Fatalf("member user1: %s", admin.text("#groups-errors"))
	}
	admin.do(chromedp.Navigate(s.URL() + "/console/#/group/" + strconv.FormatInt(elsewhere, 10)))
	admin.waitFor(`document.querySelector('#page-title') && document.querySelector('#page-title').textContent === 'elsewhere'`, "group elsewhere")
	admin.fill("#member-search", "user1")
	admin.waitFor(`document.querySelector('#member-search-results button')`, "picker results")
	if got := admin.eval(`document.querySelector('#member-search-results button').dataset.pick`); got != strconv.FormatInt(user1, 10) {
		t.Fatalf("the picker's first offer is user %s, want user1 (%d): %s", got, user1, admin.text("#member-search-results"))
	}
	admin.mustContain("#member-search-results", "Searched logins containing “user1”", "of 1,001", "exact matches first")

	// --- an unsaved Details edit survives an ACL save --------------------
	teamHash := "#/group/" + strconv.FormatInt(team, 10)
	admin.eval(fmt.Sprintf(`location.hash = %q, ''`, teamHash))
	admin.waitFor(`document.querySelector('#page-title') && document.querySelector('#page-title').textContent === 'team'`, "group team")
	admin.clearField("#edit-comment")
	admin.fill("#edit-comment", "typed, not saved yet")
	admin.waitFor(`!document.querySelector('#details-dirty').hidden`, "Details marked unsaved")
	admin.fill("#acl-search", "readers")
	admin.click(fmt.Sprintf(`#acl-search-results button[data-pick="group:%d"]`, readers))
	admin.waitFor(`!document.querySelector('#acl-dirty').hidden`, "ACL marked unsaved")
	admin.click("#acl-save")
	admin.waitFor(`document.querySelector('#group-version').textContent === '2'`, "ACL saved")
	if got := admin.eval(`document.querySelector('#edit-comment').value`); got != "typed, not saved yet" {
		t.Fatalf("the ACL save lost the Details edit: comment %q", got)
	}
	admin.waitFor(`!document.querySelector('#details-dirty').hidden && document.querySelector('#acl-dirty').hidden`,
		"Details still unsaved, ACL saved")
	admin.mustContain("#toast", "Access control saved", "Details are still there, not saved")
	if g := getGroup(t, root, team); g.Group.Comment == nil || *g.Group.Comment != "first" || len(g.ACL) != 1 {
		t.Fatalf("stored: comment %v, ACL %v", g.Group.Comment, g.ACL)
	}
	noToken("the group page")

	// --- leaving with unsaved edits asks first ---------------------------
	admin.click(".crumbs a")
	admin.waitFor(`document.querySelector('#confirm').open`, "a link asks first")
	admin.mustContain("#confirm", "Leave without saving?", "Details")
	admin.click("#confirm-cancel")
	admin.waitFor(fmt.Sprintf(`!document.querySelector('#confirm').open && location.hash === %q &&
		document.querySelector('#edit-comment').value === 'typed, not saved yet'`, teamHash), "stayed, edit kept")
	admin.eval(`history.back(), ''`)
	admin.waitFor(`document.querySelector('#confirm').open`, "Back asks first")
	admin.click("#confirm-cancel")
	admin.waitFor(fmt.Sprintf(`!document.querySelector('#confirm').open && location.hash === %q &&
		document.querySelector('#edit-comment').value === 'typed, not saved yet'`, teamHash), "stayed after Back, edit kept")
	if got := admin.eval(`(() => { const e = new Event('beforeunload', {cancelable: true}); window.dispatchEvent(e);
		return String(e.defaultPrevented) })()`); got != "true" {
		t.Fatal("closing or reloading the tab with unsaved edits does not ask")
	}

	// --- the session is revoked: the edit survives the sign-in -----------
	if r := s.Do(t, "POST", "/api/v1/session/deauthenticate", nil, "x-easydb-token", tokens[0]); r.StatusCode != 200 {
		t.Fatalf("deauthenticate: %d %s", r.StatusCode, r.Body)
	}
	admin.click("#save-details")
	admin.waitVisible("#login-form")
	admin.mustContain("#draft-kept", "“Details” could be saved: it was NOT saved", "group “team”")
	noToken("the sign-in page")
	admin.login("root", RootPassword)
	tokens = append(tokens, admin.eval(`sessionStorage.getItem('groupd.console.token')`))
	admin.waitFor(`document.querySelector('#draft-restored')`, "the edit restored")
	admin.mustContain("#draft-restored", "NOT saved", "Details")
	if got := admin.eval(`document.querySelector('#edit-comment').value`); got != "typed, not saved yet" {
		t.Fatalf("after signing in again, the comment is %q", got)
	}
	noToken("the group page after signing in again")
	admin.click("#save-details")
	admin.waitFor(`document.querySelector('#group-version').textContent === '3' && document.querySelector('#details-dirty').hidden`,
		"Details saved after signing in again")
	if g := getGroup(t, root, team); g.Group.Comment == nil || *g.Group.Comment != "typed, not saved yet" {
		t.Fatalf("stored comment %v", g.Group.Comment)
	}
	admin.mustContain("#toast", "Details saved")

	// --- a success message stays with its group --------------------------
	admin.eval(fmt.Sprintf(`location.hash = '#/group/%d', ''`, readers))
	admin.waitFor(`document.querySelector('#page-title') && document.querySelector('#page-title').textContent === 'readers'`, "group readers")
	if got := admin.eval(`document.querySelector('#toast').textContent`); got != "" {
		t.Fatalf("the success of another group follows: %q", got)
	}
	// Nothing is unsaved: leaving does not ask.
	admin.click(".crumbs a")
	admin.waitList()
	noToken("the end")
}

// TestConsoleServerDown: when the server does not answer, the console says
// that it is unreachable and offers Retry, which works once it is back.
func TestConsoleServerDown(t *testing.T) {
	b := newBrowser(t)
	dbURL := dbtest.NewDatabaseURL(t)
	first := MustStartServerOn(t, dbURL)
	addr := strings.TrimPrefix(first.URL(), "http://")
	bulkGroups(t, first, 60)
	admin := b.tab("root", 1280, 800)
	admin.do(chromedp.Navigate(first.URL() + "/console/"))
	admin.login("root", RootPassword)
	admin.waitList()

	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	admin.click("#groups-pager .pager-next")
	admin.waitFor(`document.querySelector('#groups-errors [data-code="network"]')`, "unreachable shown")
	admin.mustContain("#groups-errors", "The server is unreachable")
	if strings.Contains(admin.text("#groups-errors"), "connection") {
		t.Fatalf("blames the connection: %s", admin.text("#groups-errors"))
	}

	// The server is back on the same address: Retry loads the page.
	MustStartServerOn(t, dbURL, func(c *server.Config) { c.Addr = addr })
	admin.click(`#groups-errors button[data-action="retry"]`)
	admin.waitFor(`document.querySelector('#groups-summary').textContent.startsWith('Groups 51–')`, "page 2 after Retry")
	if admin.eval(`document.querySelector('#groups-errors').textContent`) != "" {
		t.Fatal("the error stays after a successful Retry")
	}
}
