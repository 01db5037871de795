package integration

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestConsoleUsers is issue 19's scenario in a real browser, over real
// HTTP: the Users page pages and filters 10^5 users on the server; root
// creates erin with a password (the strength hint follows the typing) and
// frank with a generated one (shown once, and it signs in); erin signs in
// in a second browser context and is refused the group "reports"; root
// gives her system.group in the user's system-rights editor and adds her to
// "team" on her page; she now sees "reports", and the explanation names the
// ACL entry for team that grants it. Erin creates an API token (shown once,
// it works), root sees it on her page, she revokes it and it is refused.
// Two root contexts edit erin at once: the second save is a version
// conflict. Root disables erin: her session is refused and her tab shows
// the sign-in page. Root deletes frank with confirmation, and the audit
// trail of everything shows it first. The pages have a label on every
// control and no overflow at 390x844.
func TestConsoleUsers(t *testing.T) {
	start := time.Now()
	b := newBrowser(t)
	s := MustStartServer(t)
	root := s.Root(t)

	// 10^5 users with names and addresses, made in the database.
	if _, err := s.DB.Exec(`INSERT INTO users (login, first_name, last_name, owner_user_id)
		SELECT 'person' || i, 'Given' || i, 'Family' || i, 1 FROM generate_series(1, 100000) i`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB.Exec(`INSERT INTO user_emails (user_id, position, email, use_for_login)
		SELECT id, 0, login || '@mail' || (id % 7) || '.example', false FROM users WHERE login LIKE 'person%'`); err != nil {
		t.Fatal(err)
	}
	g := mkGroups(t, root, `[{"group":{"name":"team"}}]`)
	team := g["team"]
	reports := mkGroups(t, root, fmt.Sprintf(`[{"group":{"name":"reports"},"_acl":[
		{"who":{"group":{"_id":%d}},"rights":{"bag_read":{}}}]}]`, team))["reports"]
	t.Logf("world ready after %v", time.Since(start).Round(time.Millisecond))

	shots := newScreenshots(t)
	admin := b.tab("root", 1280, 800)
	other := b.tab("root, second context", 1280, 800)
	erinTab := b.tab("erin", 1280, 800)

	admin.do(chromedp.Navigate(s.URL() + "/console/#/users"))
	admin.login("root", RootPassword)
	waitUsers := func(tb *tab) {
		t.Helper()
		tb.waitFor(`document.querySelector('#users-table') && document.querySelector('#users-table').dataset.state === 'ready' &&
			document.querySelector('#users-summary').dataset.total !== undefined`, "the users list")
	}

	// --- the Users page: 10^5 users, paged and filtered by the server ------
	waitUsers(admin)
	total, err := strconv.Atoi(admin.eval(`document.querySelector('#users-summary').dataset.total`))
	if err != nil || total < 100_000 {
		t.Fatalf("users total %d, %v", total, err)
	}
	admin.mustContain("#users-summary", "Users 1–50 of "+fmtThousands(total))
	admin.noUnlabelled()
	admin.fill("#ufilter-name", "Given4242")
	admin.waitFor(`document.querySelector('#users-summary').dataset.total === '11'`, "name filter: Given4242, Given42420-9")
	admin.fill("#ufilter-email", "mail0.")
	both := root.Do(t, "GET", "/api/v1/user?limit=1&name=Given4242&email=mail0.", nil).Header.Get("X-Total-Count")
	if n, _ := strconv.Atoi(both); n < 1 || n >= 11 {
		t.Fatalf("name and e-mail filter over the API: %s users", both)
	}
	admin.waitFor(fmt.Sprintf(`document.querySelector('#users-summary').dataset.total === %q`, both), "name and e-mail filter")
	t.Logf("a page of 10^5 users filtered by name and e-mail: %s ms in the browser", admin.eval(`document.querySelector('#users-table').dataset.ms`))
	admin.click("#ufilter-clear")
	admin.fill("#ufilter-login", "person7")
	admin.waitFor(`document.querySelector('#users-body tr') && document.querySelector('#users-body tr').dataset.login === 'person7'`, "exact login first")
	shots.take(admin, "users.png", false)
	admin.click("#ufilter-clear")
	waitUsers(admin)

	// --- New user: erin with a password, the strength hint ---------------
	admin.click("#new-user")
	admin.waitVisible("#cuser-form")
	admin.noUnlabelled()
	admin.fill("#cuser-login", "erin")
	admin.fill("#cuser-first", "Erin")
	admin.fill("#cuser-last", "Example")
	admin.fill("#cuser-email", "erin@corp.example")
	admin.fill("#cuser-password", "short")
	admin.mustContain("#cuser-password-strength", "Too short")
	const erinPassword = "Erin-initial-Pass-2026"
	admin.clearField("#cuser-password")
	admin.fill("#cuser-password", erinPassword)
	admin.waitFor(`Number(document.querySelector('#cuser-password-strength').dataset.score) >= 3`, "a strong password rated so")
	admin.click("#cuser-submit")
	admin.waitFor(`document.querySelector('#page-title') && document.querySelector('#page-title').textContent === 'erin'`, "erin's page")
	erinID, err := strconv.ParseInt(admin.text("#user-id"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	erinHash := fmt.Sprintf("#/user/%d", erinID)

	// --- New user: frank with a generated password, shown once -----------
	admin.eval(`location.hash = '#/users/new', ''`)
	admin.waitVisible("#cuser-form")
	admin.fill("#cuser-login", "frank")
	admin.click("#cuser-pw-generate")
	admin.click("#cuser-submit")
	admin.waitVisible("#cuser-secret-value")
	generated := admin.text("#cuser-secret-value")
	if len(generated) != 20 {
		t.Fatalf("generated password %q", generated)
	}
	frank := s.Login(t, "frank", generated)
	admin.click("#cuser-open")
	admin.waitFor(`document.querySelector('#page-title') && document.querySelector('#page-title').textContent === 'frank'`, "frank's page")
	if strings.Contains(admin.pageText(), generated) {
		t.Fatal("the generated password is still on the page after leaving it")
	}

	// --- erin signs in elsewhere and cannot see reports --------------------
	erinTab.do(chromedp.Navigate(s.URL() + "/console/"))
	erinTab.login("erin", erinPassword)
	erinTab.eval(fmt.Sprintf(`location.hash = '#/group/%d', ''`, reports))
	erinTab.waitFor(`document.querySelector('[data-code="error.user.no_system_right"]')`, "erin lacks system.group")

	// Root grants system.group on erin's page, as on a group's.
	admin.eval(fmt.Sprintf(`location.hash = %q, ''`, erinHash))
	admin.waitFor(`document.querySelector('#page-title') && document.querySelector('#page-title').textContent === 'erin'`, "erin's page")
	admin.eval(`document.querySelector('#sysrights details').open = true, ''`)
	admin.clearField("#sysrights-json")
	admin.fill("#sysrights-json", `{"system.group": {}}`)
	admin.click("#sysrights-save")
	admin.waitFor(`document.querySelector('#user-version') && document.querySelector('#user-version').textContent === '2'`, "system rights saved")
	admin.mustContain("#sysrights-list", "system.group")
	erinTab.do(chromedp.Reload())
	erinTab.waitFor(`document.querySelector('[data-code="error.user.insufficient_rights"]')`, "erin refused reports (bag_read)")

	// --- root adds erin to team on her page; she sees reports -------------
	admin.fill("#ugroups-search", "team")
	admin.click(fmt.Sprintf(`#ugroups-search-results button[data-pick="%d"]`, team))
	admin.waitFor(fmt.Sprintf(`document.querySelector('#ugroups-list li[data-group-id="%d"]')`, team), "team in erin's groups")
	erinTab.do(chromedp.Reload())
	erinTab.waitFor(`document.querySelector('#page-title') && document.querySelector('#page-title').textContent === 'reports'`, "erin sees reports")

	// --- erin's own ACL, edited as a group's: team may read her ------------
	admin.fill("#acl-search", "team")
	admin.click(fmt.Sprintf(`#acl-search-results button[data-pick="group:%d"]`, team))
	admin.waitFor(`document.querySelector('#acl-body tr[data-index="0"] input[data-right="read"]').checked &&
		!document.querySelector('#acl-body input[data-right="bag_read"]')`, "an entry with the user rights only")
	admin.click("#acl-save")
	admin.waitFor(`document.querySelector('#acl-dirty') && document.querySelector('#acl-dirty').hidden &&
		document.querySelector('#acl-body tr[data-index="0"]')`, "the ACL saved")
	if got := users(t, root.Do(t, "GET", fmt.Sprintf("/api/v1/user/%d", erinID), nil))[0].ACL; len(got) != 1 {
		t.Fatalf("erin's ACL after the save: %v", got)
	}

	// --- why can erin see reports? ------------------------------------------
	admin.fill("#explain-group", "reports")
	admin.click(fmt.Sprintf(`#explain-group-results button[data-pick="%d"]`, reports))
	admin.waitFor(`document.querySelector('#explain-result').dataset.state === 'ready'`, "the explanation")
	admin.mustContain("#explain-verdict", "erin can see this group")
	admin.mustContain(`#explain-table tr[data-right="bag_read"] li[data-rule="acl"]`, "ACL entry #1 for group team", "through membership of group team")
	if got := admin.eval(`[...document.querySelectorAll('#explain-table tr[data-granted="true"]')].map(r => r.dataset.right).join(',')`); got != "bag_read" {
		t.Fatalf("explained rights: %q", got)
	}
	shots.element(admin, "explain.png", "#explain")
	admin.noUnlabelled()
	admin.eval(`window.scrollTo(0, 0), ''`)
	shots.take(admin, "user.png", false)

	// --- tokens: create (shown once), used, seen by root, revoked ----------
	erinTab.click("#nav-tokens")
	erinTab.waitVisible("#token-form")
	erinTab.fill("#token-name", "nightly import")
	erinTab.click("#token-create")
	erinTab.waitVisible("#token-secret-value")
	secret := erinTab.text("#token-secret-value")
	if !strings.HasPrefix(secret, "gdp_") {
		t.Fatalf("token secret %q", secret)
	}
	erinTab.waitFor(`document.querySelectorAll('#tokens-body tr[data-token-id]').length === 1`, "the token listed")
	shots.take(erinTab, "tokens.png", false)
	withToken := &Client{s: s, Token: secret}
	if r := withToken.Do(t, "GET", fmt.Sprintf("/api/v1/group/%d", reports), nil); r.StatusCode != 200 {
		t.Fatalf("the new token: %d %s", r.StatusCode, r.Body)
	}
	admin.do(chromedp.Reload())
	admin.waitFor(`document.querySelector('#tokens-body tr[data-name="nightly import"]')`, "root sees erin's token")
	erinTab.do(chromedp.Reload())
	erinTab.waitFor(`document.querySelector('#tokens-body tr[data-name="nightly import"] button')`, "erin's token after a reload")
	if strings.Contains(admin.pageText(), secret) || strings.Contains(erinTab.pageText(), secret) {
		t.Fatal("a token secret is shown again")
	}
	erinTab.click(`#tokens-body tr[data-name="nightly import"] button`)
	erinTab.waitFor(`document.querySelector('#tokens-body tr.empty')`, "the token revoked")
	MustError(t, withToken.Do(t, "GET", "/api/v1/group", nil), 400, "error.user.session_not_found")

	// --- a version conflict on a user --------------------------------------
	other.do(chromedp.Navigate(s.URL() + "/console/" + erinHash))
	other.login("root", RootPassword)
	other.waitVisible("#user-details-form")
	admin.do(chromedp.Reload())
	admin.waitVisible("#user-details-form")
	versionBefore := other.text("#user-version")
	other.clearField("#uedit-first")
	other.fill("#uedit-first", "Erin-Marie")
	other.click("#save-user-details")
	other.waitFor(fmt.Sprintf(`document.querySelector('#user-version').textContent !== %q`, versionBefore), "saved in the second context")
	admin.clearField("#uedit-last")
	admin.fill("#uedit-last", "Sample")
	admin.click("#save-user-details")
	admin.waitFor(`document.querySelector('#udetails-errors .conflict[data-code="error.user.version_mismatch"]')`, "the version conflict")
	admin.mustContain("#udetails-errors", "Changed by someone else — reload", "This user was saved by someone else")
	if got := admin.eval(`document.querySelector('#udetails-dirty').hidden`); got != "false" {
		t.Fatalf("after a conflict the edit does not look unsaved: hidden=%s", got)
	}
	admin.click(`#udetails-errors [data-action="reload"]`)
	admin.waitFor(`document.querySelector('#uedit-first') && document.querySelector('#uedit-first').value === 'Erin-Marie'`, "reloaded")

	// --- disable erin: her session is refused --------------------------------
	erinToken := erinTab.eval(`sessionStorage.getItem('groupd.console.token') || ''`)
	if r := (&Client{s: s, Token: erinToken}).Do(t, "GET", fmt.Sprintf("/api/v1/group/%d", reports), nil); r.StatusCode != 200 {
		t.Fatalf("erin's session before disabling: %d %s", r.StatusCode, r.Body)
	}
	admin.click("#uedit-disabled")
	admin.click("#save-user-details")
	admin.waitFor(`document.querySelector('#user-login-state') && document.querySelector('#user-login-state').textContent === 'disabled'`, "erin disabled")
	MustError(t, (&Client{s: s, Token: erinToken}).Do(t, "GET", fmt.Sprintf("/api/v1/group/%d", reports), nil), 400,
		"error.user.not_authenticated")
	erinTab.eval(fmt.Sprintf(`location.hash = '#/group/%d', ''`, reports))
	erinTab.waitVisible("#login-form")
	erinTab.clearField("#login-login")
	erinTab.fill("#login-login", "erin")
	erinTab.clearField("#login-password")
	erinTab.fill("#login-password", erinPassword)
	erinTab.click("#login-submit")
	erinTab.waitFor(`document.querySelector('#login-errors [data-code="error.user.login_disabled"]')`, "erin's sign-in refused")

	// --- delete frank, with confirmation; the audit trail ------------------
	admin.eval(fmt.Sprintf(`location.hash = '#/user/%d', ''`, frank.UserID))
	admin.waitFor(`document.querySelector('#page-title') && document.querySelector('#page-title').textContent === 'frank'`, "frank's page")
	admin.click("#delete-user")
	admin.waitVisible("#confirm")
	admin.mustContain("#confirm-title", "Delete the user “frank”?")
	admin.click("#confirm-ok")
	admin.waitFor(`location.hash === '#/users'`, "back on the users list")
	if r := root.Do(t, "GET", "/api/v1/user/"+strconv.FormatInt(frank.UserID, 10), nil); r.StatusCode == 200 {
		t.Fatalf("frank still exists: %s", r.Body)
	}
	admin.click("#nav-audit")
	admin.waitFor(`document.querySelector('#all-audit-list > li')`, "the audit trail")
	admin.mustContain("#all-audit-list > li:first-child", "user frank", "deleted")
	admin.mustContain("#all-audit-list", "user erin", "sign-in disabled: false → true")

	// --- a phone's screen ------------------------------------------------------
	admin.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	admin.waitFor(`innerWidth === 390`, "a phone's viewport")
	for _, hash := range []string{erinHash, "#/users?login=person1"} {
		admin.eval(fmt.Sprintf(`location.hash = %q, ''`, hash))
		admin.waitFor(`document.querySelector('#page-title')`, hash)
		if hash != erinHash {
			waitUsers(admin)
		} else {
			admin.waitFor(`document.querySelector('#tokens-table') && document.querySelector('#tokens-table').dataset.state === 'ready'`, "tokens loaded")
		}
		if got := admin.eval(`String(document.documentElement.scrollWidth <= innerWidth)`); got != "true" {
			t.Fatalf("%s overflows at 390x844 (%s px)", hash, admin.eval(`String(document.documentElement.scrollWidth)`))
		}
	}
	shots.take(admin, "narrow-users.png", false)
}
