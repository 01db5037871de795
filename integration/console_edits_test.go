package integration

import (
	"encoding/json"
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

	shots := newScreenshots(t)
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
	shots.take(admin, "leave.png", false)
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
	shots.take(admin, "session-ended.png", false)
	noToken("the sign-in page")
	admin.login("root", RootPassword)
	tokens = append(tokens, admin.eval(`sessionStorage.getItem('groupd.console.token')`))
	admin.waitFor(`document.querySelector('#draft-restored')`, "the edit restored")
	admin.mustContain("#draft-restored", "NOT saved", "Details")
	shots.take(admin, "restored.png", false)
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
// that it is unreachable and offers Retry, which works once it is back; a
// session that expired meanwhile leads to the sign-in page, which does not
// show the token that error.user.session_not_found carries.
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
	second := MustStartServerOn(t, dbURL, func(c *server.Config) { c.Addr = addr })
	admin.click(`#groups-errors button[data-action="retry"]`)
	admin.waitFor(`document.querySelector('#groups-summary').textContent.startsWith('Groups 51–')`, "page 2 after Retry")
	if admin.eval(`document.querySelector('#groups-errors').textContent`) != "" {
		t.Fatal("the error stays after a successful Retry")
	}

	// The session expires (its row is gone, and a restarted server has no
	// cache of it): the sign-in page says so, without the token that
	// error.user.session_not_found carries as its id.
	token := admin.eval(`sessionStorage.getItem('groupd.console.token')`)
	if len(token) < 20 {
		t.Fatalf("token %q", token)
	}
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	third := MustStartServerOn(t, dbURL, func(c *server.Config) { c.Addr = addr })
	if _, err := third.DB.Exec(`DELETE FROM sessions`); err != nil {
		t.Fatal(err)
	}
	admin.click("#groups-pager .pager-prev")
	admin.waitFor(`document.querySelector('#login-errors [data-code="error.user.session_not_found"]')`, "session_not_found on the sign-in page")
	if got := admin.eval(fmt.Sprintf(`String(document.documentElement.outerHTML.includes(%q) || location.href.includes(%q))`, token, token)); got != "false" {
		t.Fatalf("the expired token is shown: %s", admin.text("#login-errors"))
	}
}

// TestConsoleFormsAndLayout: the create form does not send an empty form,
// accepts a display name alone (as its help says), attaches errors to their
// fields and names the group that holds a display name; the audit trail
// reads display names as text and ACL changes as who gained or lost which
// right, newest first; the list is one line per group at 1280x800 and shows
// root's rights as "all rights", and nothing overflows its cell at 390x844.
func TestConsoleFormsAndLayout(t *testing.T) {
	b := newBrowser(t)
	s := MustStartServer(t)
	root := s.Root(t)
	bulkGroups(t, s, 60)
	long := strings.Repeat("ref-without-any-space-", 6)
	readers := groups(t, root.Do(t, "PUT", "/api/v1/group", fmt.Sprintf(`[{"group":{"name":"readers"}},
		{"group":{"name":"a-rather-long-group-name-with-many-hyphens-that-would-wrap-mid-word","reference":%q}}]`, long)))[0].Group.ID

	admin := b.tab("root", 1280, 800)
	admin.do(chromedp.Navigate(s.URL() + "/console/"))
	admin.login("root", RootPassword)
	admin.waitList()

	// --- the list at 1280x800 ---------------------------------------------
	if got := admin.eval(`(() => { const rows = [...document.querySelectorAll('#groups-body tr')];
		const tall = rows.filter(r => r.getBoundingClientRect().height > 40).length;
		const seen = rows.filter(r => r.getBoundingClientRect().bottom <= innerHeight).length;
		return JSON.stringify({tall, seen: seen >= 12, all: rows.filter(r => r.dataset.name.startsWith('bulk-')).every(r => r.textContent.includes('all rights'))}) })()`); got != `{"tall":0,"seen":true,"all":true}` {
		t.Fatalf("the list at 1280x800: %s", got)
	}
	admin.fill("#filter-name", "a-rather-long")
	admin.waitFor(`document.querySelector('#groups-summary').dataset.total === '1'`, "the long group")
	if got := admin.eval(`(() => { const a = document.querySelector('#groups-body td[data-label="Reference"] .cut');
		return String(a.title === a.textContent && a.scrollWidth > a.clientWidth) })()`); got != "true" {
		t.Fatalf("a long reference is not cut with its whole text as tooltip: %s", got)
	}
	admin.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	admin.waitFor(`innerWidth === 390`, "a phone's viewport")
	if got := admin.eval(`(() => {
		const over = [...document.querySelectorAll('#groups-body td')].filter(td => {
			const r = td.getBoundingClientRect();
			return [...td.querySelectorAll('*')].some(e => e.getBoundingClientRect().right > r.right + 1);
		}).map(td => td.dataset.label);
		return JSON.stringify({page: document.documentElement.scrollWidth <= innerWidth, over}) })()`); got != `{"page":true,"over":[]}` {
		t.Fatalf("overflow at 390x844: %s", got)
	}
	admin.do(chromedp.EmulateViewport(1280, 800))
	admin.click("#filter-clear")
	admin.waitList()

	// --- create: an empty form is not sent --------------------------------
	puts := func() int { return strings.Count(s.Logs.String(), "method=PUT route=/api/v1/group ") }
	before := puts()
	admin.click("#new-group")
	admin.waitVisible("#create-form")
	admin.click("#create-submit")
	admin.waitFor(`document.querySelector('#create-name').getAttribute('aria-invalid') === 'true'`, "the empty form refused at the name field")
	admin.mustContain("#create-form .field-error", "name or a display name")
	if got := admin.eval(`document.querySelector('#create-name').getAttribute('aria-describedby')`); !strings.Contains(got, "create-name-error") {
		t.Fatalf("the field error is not the name's description: %q", got)
	}
	if puts() != before {
		t.Fatal("the empty form was sent")
	}
	// A display name alone is accepted.
	admin.fill("#create-form .culture-text", "Only a display name")
	admin.click("#create-submit")
	admin.waitFor(`document.querySelector('#page-title') && document.querySelector('#page-title').textContent === 'Only a display name'`, "created by display name")
	id, err := strconv.ParseInt(admin.text("#group-id"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	// A display name clash names the group that holds it, at the field.
	admin.eval(`location.hash = '#/groups/new', ''`)
	admin.waitVisible("#create-form")
	admin.fill("#create-name", "another")
	admin.fill("#create-form .culture-text", "Only a display name")
	admin.click("#create-submit")
	admin.waitFor(`document.querySelector('#create-form .culture-row + .field-error')`, "the clash at the display name")
	admin.mustContain("#create-form .culture-row + .field-error", "used by the group “Only a display name”", fmt.Sprintf("(#%d)", id))

	// --- the audit trail ----------------------------------------------------
	admin.eval(fmt.Sprintf(`location.hash = '#/group/%d', ''`, id))
	admin.waitFor(`document.querySelector('#page-title') && document.querySelector('#page-title').textContent === 'Only a display name'`, "the group")
	admin.clearField("#details-form .culture-text")
	admin.fill("#details-form .culture-text", "Renamed")
	admin.click("#save-details")
	admin.waitFor(`document.querySelector('#group-version').textContent === '2'`, "display name saved")
	admin.fill("#acl-search", "readers")
	admin.click(fmt.Sprintf(`#acl-search-results button[data-pick="group:%d"]`, readers))
	admin.click("#acl-save")
	admin.waitFor(`document.querySelector('#group-version').textContent === '3'`, "ACL saved")
	admin.click(`#acl-body tr[data-who="group readers"] input[data-right="link"]`)
	admin.click("#acl-save")
	admin.waitFor(`document.querySelector('#group-version').textContent === '4'`, "ACL changed")
	admin.waitFor(`document.querySelectorAll('#audit-list > li').length === 4`, "four events")
	items := admin.eval(`JSON.stringify([...document.querySelectorAll('#audit-list > li')].map(li => li.textContent))`)
	var texts []string
	if err := json.Unmarshal([]byte(items), &texts); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(texts[0], "group readers gained link") || !strings.Contains(texts[1], "group readers gained bag_read") ||
		!strings.Contains(texts[2], "display name: en-US: Only a display name → en-US: Renamed") ||
		!strings.Contains(texts[3], "created with the display name en-US: Only a display name") || strings.Contains(items, `{\"`) {
		t.Fatalf("the audit trail, newest first, in words: %s", items)
	}
}
