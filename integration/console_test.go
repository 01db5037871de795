package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The admin console's browser tests drive Debian's Chromium, headless,
// through chromedp. Without Chromium they fail (scripts/ensure-chromium
// installs it); they never skip. With GROUPD_SCREENSHOTS=1 (make screenshots)
// they also save the main screens to docs/console/*.png.

// TestConsoleFiles checks what the server sends for the console's
// addresses, each exchange validated against the OpenAPI document.
func TestConsoleFiles(t *testing.T) {
	t.Parallel()
	s := MustStartServer(t)

	// /console redirects (not followed here, so that the 301 is checked).
	req, err := http.NewRequest("GET", s.URL()+"/console", nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	contractFor(t, s.URL()).check(t, req, nil, resp, body)
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/console/" {
		t.Fatalf("GET /console: want 301 to /console/, got %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	for _, c := range []struct{ path, ctype, contains string }{
		{"/console/", "text/html", `<script src="app.js"`},
		{"/console/app.js", "text/javascript", "x-easydb-token"},
		{"/console/app.css", "text/css", ":focus-visible"},
	} {
		r := s.Do(t, "GET", c.path, nil)
		if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), c.ctype) ||
			!strings.Contains(string(r.Body), c.contains) {
			t.Fatalf("GET %s: %d %s, body lacks %q", c.path, r.StatusCode, r.Header.Get("Content-Type"), c.contains)
		}
		if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Fatalf("GET %s: Content-Security-Policy %q", c.path, csp)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Cache-Control") != "no-cache" {
			t.Fatalf("GET %s: headers %v", c.path, r.Header)
		}
		// Revalidation: the same ETag gives 304 without a body.
		again := s.Do(t, "GET", c.path, nil, "If-None-Match", r.Header.Get("ETag"))
		if again.StatusCode != http.StatusNotModified || len(again.Body) != 0 {
			t.Fatalf("GET %s with If-None-Match: %d, %d bytes", c.path, again.StatusCode, len(again.Body))
		}
	}
	MustError(t, s.Do(t, "GET", "/console/nothing.js", nil), 400, "error.api.invalid_api")
	MustError(t, s.Do(t, "GET", "/console/static/app.js", nil), 400, "error.api.invalid_api")
	MustError(t, s.Do(t, "POST", "/console/", nil), 400, "error.api.invalid_request_method")
}

// TestConsoleBrowser is the console's scenario in a real browser: sign in as
// root (after a refused password), page and filter 10^5 groups, create a
// group (and be refused a duplicate), add a member, grant bag_read to a group
// in the ACL editor and see a user of that group (in a second browser
// context) gain sight of the group, provoke a version conflict from two
// contexts and reload, and delete with confirmation.
//
// It does not run in parallel with the other tests: Chromium and 10^5 groups
// would load the machine that timing-sensitive tests (the login lockout's
// window) share.
func TestConsoleBrowser(t *testing.T) {
	start := time.Now()
	b := newBrowser(t) // first: without Chromium, fail at once
	s := MustStartServer(t)
	root := s.Root(t)

	// The world: 10^5 groups (the console never fetches them all), a group
	// "readers" with bob in it, and carol, who is added through the console.
	bulkGroups(t, s, 100_000)
	bob := s.MustCreateUser(t, "bob", `{"system.group":{}}`)
	// Users listed before carol: finding her needs the server's login filter.
	if _, err := s.DB.Exec(`INSERT INTO users (login, owner_user_id) SELECT 'filler-' || i, 1 FROM generate_series(1, 60) i`); err != nil {
		t.Fatal(err)
	}
	carol := s.MustCreateUser(t, "carol", `{}`)
	readers := groups(t, root.Do(t, "PUT", "/api/v1/group", `[{"group":{"name":"readers",
		"displayname":{"en-US":"Readers","de-DE":"Leser"},"comment":"may read the project groups"}}]`))[0].Group.ID
	s.AddMember(t, readers, bob)
	t.Logf("world ready after %v", time.Since(start).Round(time.Millisecond))

	shots := newScreenshots(t)
	admin := b.tab("root", 1280, 800)
	other := b.tab("root, second context", 1280, 800)
	bobTab := b.tab("bob", 1280, 800)

	// --- sign in ---------------------------------------------------------
	admin.do(chromedp.Navigate(s.URL() + "/console"))
	admin.waitVisible("#login-form")
	shots.take(admin, "login.png", false)
	admin.fill("#login-login", "root")
	admin.fill("#login-password", "wrong password")
	admin.click("#login-submit")
	admin.waitFor(`document.querySelector('#login-errors [data-code="error.user.login_failed"]')`, "login_failed shown")
	admin.mustContain("#login-errors", "Wrong login or password.", "error.user.login_failed")
	if admin.eval(`!!document.querySelector('#groups-table')`) == "true" {
		t.Fatal("a refused login shows the groups")
	}
	admin.login("root", RootPassword)
	if got := admin.text("#whoami"); got != "root" {
		t.Fatalf("signed in as %q", got)
	}
	if tok := admin.eval(`sessionStorage.getItem('groupd.console.token') || ''`); len(tok) < 43 {
		t.Fatalf("token not kept in sessionStorage: %q", tok)
	}

	// --- the list: server-side paging and filters over 10^5 groups --------
	total := listTotal(t, root, "")
	admin.waitList()
	admin.mustContain("#groups-summary", "Groups 1–50 of "+fmtThousands(total))
	if n := admin.eval(`document.querySelectorAll('#groups-body tr').length`); n != "50" {
		t.Fatalf("first page shows %s rows, want 50", n)
	}
	admin.click("#groups-pager .pager-last")
	admin.waitFor(fmt.Sprintf(`document.querySelector('#groups-summary').textContent.includes('of %s') &&
		document.querySelector('#groups-summary').textContent.startsWith('Groups %s')`,
		fmtThousands(total), fmtThousands((total-1)/50*50+1)), "last page")
	lastPageMS := admin.eval(`document.querySelector('#groups-table').dataset.ms`)
	// The pager works with the keyboard and keeps the focus.
	admin.do(chromedp.Focus(chromedp.CSS("#groups-pager .pager-prev")), chromedp.KeyEvent("\r"))
	admin.waitFor(fmt.Sprintf(`document.querySelector('#groups-summary').textContent.startsWith('Groups %s') &&
		document.activeElement.classList.contains('pager-prev')`, fmtThousands((total-1)/50*50-49)), "previous page by keyboard")
	admin.fill("#filter-name", "bulk-09999")
	admin.waitFor(`document.querySelector('#groups-summary').dataset.total === '10'`, "name filter: 10 matches")
	filterMS := admin.eval(`document.querySelector('#groups-table').dataset.ms`)
	if !strings.Contains(admin.eval(`location.hash`), "name=bulk-09999") {
		t.Fatalf("the filter is not kept in the address: %s", admin.eval(`location.hash`))
	}
	admin.selectValue("#filter-type", "system")
	admin.waitFor(`document.querySelector('#groups-summary').dataset.total === '0'`, "type filter on top of the name")
	admin.click("#filter-clear")
	admin.fill("#filter-member", "bob") // a login, resolved with the user API
	admin.waitFor(`document.querySelector('#groups-summary').dataset.total !== undefined &&
		[...document.querySelectorAll('#groups-body tr')].some(r => r.dataset.name === 'readers')`, "member filter by login")
	admin.click("#filter-clear")
	admin.waitList()
	t.Logf("list of %d groups: last page %s ms, name filter %s ms (as the page measured them)", total, lastPageMS, filterMS)
	for _, ms := range []string{lastPageMS, filterMS} {
		// A sanity bound for a loaded CI machine under -race; the log line
		// above has the real figures.
		if n, _ := strconv.Atoi(ms); n > 5000 {
			t.Fatalf("a list page took %s ms", ms)
		}
	}
	admin.fill("#filter-name", "readers")
	admin.waitFor(`document.querySelector('#groups-summary').dataset.total === '1'`, "readers listed")
	admin.click("#filter-clear")
	admin.waitList()
	shots.take(admin, "groups.png", false)

	// --- create (a duplicate is refused and says so) ----------------------
	admin.click("#new-group")
	admin.waitVisible("#create-form")
	admin.fill("#create-name", "readers")
	admin.click("#create-submit")
	admin.waitFor(`document.querySelector('#create-errors [data-code="error.user.integrity_constraint_violation"]')`, "duplicate refused")
	admin.mustContain("#create-errors", "Another group already uses this name")
	if !strings.HasPrefix(admin.eval(`location.hash`), "#/groups/new") {
		t.Fatal("a refused create left the form")
	}
	admin.clearField("#create-name")
	admin.fill("#create-name", "projects")
	admin.fill("#create-form .culture-text", "Projects")
	admin.fill("#create-comment", "all project groups")
	admin.fill("#create-reference", "ext-projects")
	admin.click("#create-submit")
	admin.waitFor(`document.querySelector('#page-title') && document.querySelector('#page-title').textContent === 'projects'`, "group page after create")
	pid := listOne(t, root, "projects")
	if pid.Group.Reference == nil || *pid.Group.Reference != "ext-projects" || pid.Group.Displayname["en-US"] != "Projects" {
		t.Fatalf("created group: %+v", pid.Group)
	}
	projects := pid.Group.ID
	admin.mustContain("#toast", "created")
	admin.mustContain("#my-rights", "bag_delete")
	admin.waitFor(`document.querySelectorAll('#audit-list li[data-action="create"]').length === 1`, "audit trail: create")

	// --- members: add carol by login search -------------------------------
	admin.fill("#member-search", "carol")
	admin.click(fmt.Sprintf(`#member-search-results button[data-pick="%d"]`, carol))
	admin.waitFor(`document.querySelector('#members-body tr[data-login="carol"]')`, "carol in the member list")
	admin.mustContain("#members-results", "carol added.")
	admin.mustContain("#members-summary", "of 1")
	admin.waitFor(`(() => { const e = document.querySelector('#audit-list li[data-action="add_member"]');
		return e && e.textContent.includes('carol') })()`, "audit trail: carol joined")
	// Remove and add again: each says what it did.
	admin.click(`#members-body tr[data-login="carol"] button`)
	admin.waitFor(`document.querySelector('#members-summary').dataset.total === '0'`, "carol removed")
	admin.mustContain("#members-results", "carol removed.")
	admin.fill("#member-search", "carol")
	admin.click(fmt.Sprintf(`#member-search-results button[data-pick="%d"]`, carol))
	admin.waitFor(`document.querySelector('#members-body tr[data-login="carol"]')`, "carol back in the member list")

	// --- bob cannot see "projects" yet ------------------------------------
	// bob signs in with the keyboard only: the login field has the focus,
	// Tab moves on, Enter submits.
	bobTab.do(chromedp.Navigate(s.URL() + "/console/"))
	bobTab.waitFor(`document.activeElement && document.activeElement.id === 'login-login'`, "focus in the login field")
	bobTab.do(chromedp.KeyEvent("bob"), chromedp.KeyEvent("\t"), chromedp.KeyEvent("pw-bob"), chromedp.KeyEvent("\r"))
	bobTab.waitFor(`!document.querySelector('#account').hidden`, "bob signed in")
	bobTab.waitList()
	// The page heading has the focus; Tab reaches the controls, whose focus
	// ring shows.
	bobTab.do(chromedp.KeyEvent("\t"))
	bobTab.waitFor(`document.activeElement !== document.body && getComputedStyle(document.activeElement).outlineStyle === 'solid'`,
		"a visible focus ring")
	bobTab.noUnlabelled()
	bobTab.fill("#filter-name", "projects")
	bobTab.waitFor(`document.querySelector('#groups-summary').dataset.total === '0'`, "projects invisible to bob")
	if bobTab.eval(`!!document.querySelector('#new-group')`) != "false" {
		t.Fatal("bob lacks system.group create, yet the console offers to create a group")
	}

	// --- grant bag_read to the group "readers" in the ACL editor ----------
	admin.fill("#acl-search", "readers")
	admin.click(fmt.Sprintf(`#acl-search-results button[data-pick="group:%d"]`, readers))
	admin.waitFor(`document.querySelector('#acl-body tr[data-who="group readers"] input[data-right="bag_read"]').checked`, "entry added with bag_read")
	// bag_delete shows what it implies.
	admin.click(`#acl-body tr[data-who="group readers"] input[data-right="bag_delete"]`)
	admin.waitFor(`(() => { const r = document.querySelector('#acl-body tr[data-who="group readers"]');
		const w = r.querySelector('input[data-right="bag_write"]');
		return w.checked && w.disabled && w.dataset.implied === 'true' && r.textContent.includes('implied by bag_delete') })()`,
		"bag_delete implies bag_write and bag_read")
	shots.element(admin, "acl.png", "#acl")
	admin.click(`#acl-body tr[data-who="group readers"] input[data-right="bag_delete"]`)
	admin.waitFor(`!document.querySelector('#acl-body tr[data-who="group readers"] input[data-right="bag_write"]').checked`, "bag_delete unticked")
	admin.mustContain("#acl-dirty", "Unsaved changes")
	admin.click("#acl-save")
	admin.waitFor(`document.querySelector('#group-version') && document.querySelector('#group-version').textContent === '2'`, "ACL saved (version 2)")
	admin.mustContain("#toast", "Access control saved")
	g := getGroup(t, root, projects)
	if len(g.ACL) != 1 || !strings.Contains(fmt.Sprint(g.ACL[0]["rights"]), "bag_read") || strings.Contains(fmt.Sprint(g.ACL[0]["rights"]), "bag_write") {
		t.Fatalf("ACL as stored: %v", g.ACL)
	}

	// --- bob now sees it, and only what bag_read allows: no ACL, no system rights
	// (the full format needs bag_write)
	bobTab.click("#filter-clear")
	bobTab.fill("#filter-name", "projects")
	bobTab.waitFor(`document.querySelector('#groups-summary').dataset.total === '1' &&
		document.querySelector('#groups-body tr[data-name="projects"]')`, "projects visible to bob")
	bobTab.click(`#groups-body tr[data-name="projects"] a`)
	bobTab.waitFor(`document.querySelector('#page-title') && document.querySelector('#page-title').textContent === 'projects'`, "bob opens projects")
	bobTab.waitFor(`document.querySelector('#audit-note')`, "audit trail note for a non-root user")
	if got := bobTab.eval(`JSON.stringify({del: !!document.querySelector('#delete-group'), save: !!document.querySelector('#save-details'),
		name: document.querySelector('#edit-name').disabled, acl: !!document.querySelector('#acl-save'),
		aclHidden: !!document.querySelector('#acl-hidden'), srHidden: !!document.querySelector('#sysrights-hidden')})`); got !=
		`{"del":false,"save":false,"name":true,"acl":false,"aclHidden":true,"srHidden":true}` {
		t.Fatalf("bob's controls: %s", got)
	}
	bobTab.mustContain("#my-rights", "bag_read")
	bobTab.noUnlabelled()

	// --- a version conflict from two contexts -----------------------------
	other.do(chromedp.Navigate(s.URL() + "/console/#/group/" + strconv.FormatInt(projects, 10)))
	other.login("root", RootPassword)
	other.waitFor(`document.querySelector('#page-title') && document.querySelector('#page-title').textContent === 'projects'`, "second context on projects")
	// admin's page holds version 2; the other context saves first.
	other.clearField("#edit-comment")
	other.fill("#edit-comment", "changed in the second context")
	other.click("#save-details")
	other.waitFor(`document.querySelector('#group-version').textContent === '3'`, "second context saved")
	admin.clearField("#edit-comment")
	admin.fill("#edit-comment", "changed in the first context")
	admin.click("#save-details")
	admin.waitFor(`document.querySelector('#details-errors [data-code="error.user.version_mismatch"]')`, "version conflict shown")
	admin.mustContain("#details-errors", "Changed by someone else — reload", "error.user.version_mismatch")
	if admin.text("#group-version") != "2" {
		t.Fatal("the refused save changed the shown version")
	}
	shots.take(admin, "conflict.png", false)
	admin.click(`#details-errors button[data-action="reload"]`)
	admin.waitFor(`document.querySelector('#group-version') && document.querySelector('#group-version').textContent === '3' &&
		document.querySelector('#edit-comment').value === 'changed in the second context'`, "reloaded version 3")
	admin.waitFor(`document.querySelectorAll('#audit-list li[data-action="update"]').length === 2`, "audit trail: two updates")
	admin.noUnlabelled()
	shots.take(admin, "group.png", true)

	// --- narrow screen ----------------------------------------------------
	if shots.on {
		admin.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
		shots.take(admin, "narrow-group.png", true)
		admin.do(chromedp.Navigate(s.URL() + "/console/#/groups"))
		admin.waitList()
		shots.take(admin, "narrow-groups.png", false)
		admin.do(chromedp.EmulateViewport(1280, 800))
		admin.do(chromedp.Navigate(s.URL() + "/console/#/group/" + strconv.FormatInt(projects, 10)))
		admin.waitFor(`document.querySelector('#page-title') && document.querySelector('#page-title').textContent === 'projects'`, "back on projects")
	}

	// --- system rights, as JSON (a syntax error never reaches the server) ---
	admin.click("#sysrights summary")
	admin.clearField("#sysrights-json")
	admin.fill("#sysrights-json", `{"system.group": {"create": true}`)
	admin.click("#sysrights-save")
	admin.waitFor(`document.querySelector('#sysrights-errors [data-code="client.invalid_json"]')`, "invalid JSON refused")
	admin.clearField("#sysrights-json")
	admin.fill("#sysrights-json", `{"system.group": {"create": true}}`)
	admin.click("#sysrights-save")
	admin.waitFor(`document.querySelector('#group-version').textContent === '4' &&
		document.querySelector('#sysrights-list').textContent.includes('system.group')`, "system rights saved")
	if sr := getGroup(t, root, projects).SystemRights; fmt.Sprint(sr) != "map[system.group:map[create:true]]" {
		t.Fatalf("system rights as stored: %v", sr)
	}

	// --- delete, with confirmation ----------------------------------------
	admin.click("#delete-group")
	admin.waitVisible("#confirm")
	admin.mustContain("#confirm", "Delete the group “projects”?")
	shots.take(admin, "delete.png", false)
	admin.click("#confirm-cancel")
	admin.waitFor(`!document.querySelector('#confirm').open`, "dialog closed")
	if len(getGroupList(t, root, projects)) != 1 {
		t.Fatal("cancel deleted the group")
	}
	admin.click("#delete-group")
	admin.waitVisible("#confirm")
	admin.click("#confirm-ok")
	admin.waitFor(`!document.querySelector('#confirm').open && location.hash.startsWith('#/groups')`, "back on the list")
	admin.mustContain("#toast", "deleted")
	if len(getGroupList(t, root, projects)) != 0 {
		t.Fatal("the group is still there")
	}

	// A deleted group's page says so; logout ends the session.
	admin.do(chromedp.Navigate(s.URL() + "/console/#/group/" + strconv.FormatInt(projects, 10)))
	admin.waitFor(`document.querySelector('main').textContent.includes('There is no group #')`, "deleted group's page")
	admin.click("#logout")
	admin.waitVisible("#login-form")
	if admin.eval(`sessionStorage.getItem('groupd.console.token') === null`) != "true" {
		t.Fatal("the token survived the logout")
	}
	t.Logf("console scenario took %v", time.Since(start).Round(time.Millisecond))
}

// --- the world --------------------------------------------------------------

// bulkGroups inserts n groups in SQL, as an import would leave them.
func bulkGroups(tb testing.TB, s *Server, n int) {
	tb.Helper()
	for _, q := range []string{
		`INSERT INTO groups (name, displayname, comment, owner_user_id)
		 SELECT 'bulk-' || lpad(i::text, 6, '0'), jsonb_build_object('en-US', 'Bulk group ' || i), 'imported', 1
		 FROM generate_series(1, $1) i`,
		`INSERT INTO group_displaynames (group_id, culture, value)
		 SELECT id, 'en-US', displayname->>'en-US' FROM groups WHERE name LIKE 'bulk-%'`,
		`ANALYZE`,
	} {
		args := []any{n}
		if !strings.Contains(q, "$1") {
			args = nil
		}
		if _, err := s.DB.Exec(q, args...); err != nil {
			tb.Fatal(err)
		}
	}
}

func listTotal(tb testing.TB, c *Client, query string) int {
	tb.Helper()
	r := c.Do(tb, "GET", "/api/v1/group?limit=1"+query, nil)
	n, err := strconv.Atoi(r.Header.Get("X-Total-Count"))
	if err != nil {
		tb.Fatalf("X-Total-Count: %v", err)
	}
	return n
}

func listOne(tb testing.TB, c *Client, name string) groupOut {
	tb.Helper()
	gs := groups(tb, c.Do(tb, "GET", "/api/v1/group?name="+name, nil))
	for _, g := range gs {
		if g.Group.Name != nil && *g.Group.Name == name {
			return g
		}
	}
	tb.Fatalf("no group %q", name)
	return groupOut{}
}

func getGroupList(tb testing.TB, c *Client, id int64) []groupOut {
	tb.Helper()
	return groups(tb, c.Do(tb, "GET", "/api/v1/group/"+strconv.FormatInt(id, 10), nil))
}

func getGroup(tb testing.TB, c *Client, id int64) groupOut {
	tb.Helper()
	gs := getGroupList(tb, c, id)
	if len(gs) != 1 {
		tb.Fatalf("group %d: %d results", id, len(gs))
	}
	return gs[0]
}

func fmtThousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// --- the browser ------------------------------------------------------------

// chromiumPath finds Chromium; its absence fails the test.
func chromiumPath(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("GROUPD_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	tb.Fatal("Chromium not found: the console's browser tests need it (run scripts/ensure-chromium, " +
		"or apt-get install chromium; GROUPD_CHROMIUM names another binary)")
	return ""
}

type browser struct {
	t   *testing.T
	ctx context.Context
}

// newBrowser starts one headless Chromium with a fresh profile; the test's
// end stops it.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromiumPath(t)
	dir, err := os.MkdirTemp("", "groupd-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // as root in containers and CI
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		// A closed network refuses Chromium's own connections: none are made.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1280, 800),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		// Chromium's children may still write for a moment after it stops.
		for range 50 {
			if os.RemoveAll(dir) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	// The first action allocates the browser with the context it is given:
	// never a derived one, whose end would stop the browser.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium (%s): %v", path, err)
	}
	return &browser{t: t, ctx: ctx}
}

// tab opens a tab in a browser context of its own: its own sessionStorage,
// as a second browser (or a private window) would have.
func (b *browser) tab(name string, width, height int64) *tab {
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	// The first action opens the tab, with the tab's own context.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height)); err != nil {
		b.t.Fatalf("open tab %s: %v", name, err)
	}
	return &tab{t: b.t, ctx: ctx, name: name}
}

type tab struct {
	t    *testing.T
	ctx  context.Context
	name string
}

const stepTimeout = 15 * time.Second

func (b *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v\npage: %s", b.name, err, b.pageText())
	}
}

// pageText is what the page shows, for failure messages.
func (b *tab) pageText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 3*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.hash + ' | ' + document.body.innerText.replace(/\s+/g, ' ').slice(0, 1500)`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return s
}

func (b *tab) eval(expr string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr))
	if err != nil {
		b.t.Fatalf("%s: eval %s: %v", b.name, expr, err)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// waitFor waits until the JavaScript expression is truthy.
func (b *tab) waitFor(expr, what string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		b.t.Fatalf("%s: waiting for %s: %v\npage: %s", b.name, what, err, b.pageText())
	}
}

func (b *tab) waitVisible(sel string) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS(sel)))
}

func (b *tab) click(sel string) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
}

func (b *tab) fill(sel, text string) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), text))
}

func (b *tab) clearField(sel string) {
	b.t.Helper()
	b.waitVisible(sel)
	b.eval(fmt.Sprintf(`(e => { e.value = ''; e.dispatchEvent(new Event('input', {bubbles: true})); return '' })(document.querySelector(%q))`, sel))
}

// selectValue picks an option as a user does: the change event fires.
func (b *tab) selectValue(sel, value string) {
	b.t.Helper()
	b.do(chromedp.SetValue(chromedp.CSS(sel), value))
	b.eval(fmt.Sprintf(`document.querySelector(%q).dispatchEvent(new Event('change')), ''`, sel))
}

func (b *tab) text(sel string) string {
	b.t.Helper()
	return b.eval(fmt.Sprintf(`document.querySelector(%q).textContent`, sel))
}

func (b *tab) mustContain(sel string, want ...string) {
	b.t.Helper()
	b.waitVisible(sel)
	got := b.text(sel)
	for _, w := range want {
		if !strings.Contains(got, w) {
			b.t.Fatalf("%s: %s shows %q, want %q in it", b.name, sel, got, w)
		}
	}
}

func (b *tab) login(login, password string) {
	b.t.Helper()
	b.waitVisible("#login-form")
	b.clearField("#login-login")
	b.fill("#login-login", login)
	b.clearField("#login-password")
	b.fill("#login-password", password)
	b.click("#login-submit")
	b.waitFor(`!document.querySelector('#account').hidden`, "signed in as "+login)
}

// noUnlabelled fails when a form control of the page has no label.
func (b *tab) noUnlabelled() {
	b.t.Helper()
	got := b.eval(`[...document.querySelectorAll('input, select, textarea, button')]
		.filter(e => e.type !== 'hidden' && !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
		.map(e => e.outerHTML.slice(0, 120)).join('\n')`)
	if got != "" {
		b.t.Fatalf("%s: controls without a label:\n%s", b.name, got)
	}
}

// waitList waits until the groups list has loaded its page.
func (b *tab) waitList() {
	b.t.Helper()
	b.waitFor(`document.querySelector('#groups-table') && document.querySelector('#groups-table').dataset.state === 'ready' &&
		document.querySelector('#groups-summary').dataset.total !== undefined`, "the groups list")
}

// element saves one element of the page as dir/name, on demand only.
func (s *screenshots) element(b *tab, name, sel string) {
	s.t.Helper()
	if !s.on {
		return
	}
	b.eval(`document.activeElement && document.activeElement.blur && document.activeElement.blur(), ''`)
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(sel)))
	if err != nil {
		s.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, name), buf, 0o644); err != nil {
		s.t.Fatal(err)
	}
	s.t.Logf("saved %s", filepath.Join(s.dir, name))
}

// --- screenshots ----------------------------------------------------------------

type screenshots struct {
	t   *testing.T
	on  bool
	dir string
}

func newScreenshots(t *testing.T) *screenshots {
	on := os.Getenv("GROUPD_SCREENSHOTS") == "1"
	dir := filepath.Join("..", "docs", "console")
	if on {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return &screenshots{t: t, on: on, dir: dir}
}

// take saves the viewport (or the whole page) as dir/name, on demand only.
func (s *screenshots) take(b *tab, name string, full bool) {
	s.t.Helper()
	if !s.on {
		return
	}
	// No caret and no passing toast in the pictures.
	b.eval(`document.activeElement && document.activeElement.blur && document.activeElement.blur(),
		document.querySelector('#toast').className = 'toast', ''`)
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	var shot chromedp.Action[[]byte]
	if full {
		shot = chromedp.FullScreenshot(100)
	} else {
		shot = chromedp.CaptureScreenshot()
	}
	buf, err := chromedp.Run(ctx, shot)
	if err != nil {
		s.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, name), buf, 0o644); err != nil {
		s.t.Fatal(err)
	}
	s.t.Logf("saved %s", filepath.Join(s.dir, name))
}
