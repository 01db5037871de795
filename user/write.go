package user

import (
	"context"
	"database/sql"
	"encoding/json"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/groupd/groupd/acl"
	"github.com/groupd/groupd/audit"
	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/group/bulk"
	"github.com/groupd/groupd/passwords"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
	"github.com/lib/pq"
)

// plan is one item's decided outcome: the user as it will be written.
type plan struct {
	bulk.Item
	before *User // nil for a create
	after  *User // as written, once read back

	version       int64
	typ           string
	texts         map[string]*string // every textField's final value
	loginDisabled bool
	frontendPrefs json.RawMessage
	systemRights  rights.Map
	ownerUser     int64
	ownerGroup    int64
	emails        []Email
	groups        []int64 // the final static groups, ascending
	add, remove   []int64 // static groups gained and lost

	passwordHash                                 *string // the new hash; nil with passwordChanged: no password
	passwordChanged, emailsChanged, ownerChanged bool
	rightsChanged                                bool
}

// createTypes are the user types the API creates (besides custom-*).
var createTypes = []string{"easydb", "easydb_self_register"}

// userSpec is the users' tables, for the kernel.
var userSpec = bulk.Spec{Kind: "user", Table: "users", ACL: acl.UserTable}

// Write creates and updates users for principal p, all in one transaction:
// any refused or invalid item (its error carries parameters.index) leaves the
// database exactly as it was. sessionID is the caller's session, which a
// change of the caller's own password keeps (the user's other sessions
// end). The result is the written users in full format, in input order.
func (s *Store) Write(ctx context.Context, p *policy.Principal, sessionID int64, items []*Input) ([]*User, error) {
	w := &userWrite{s: s, p: p, items: items, now: s.db.Now(), sessionID: sessionID}
	if err := s.checkPasswordPolicy(ctx, p, items); err != nil {
		return nil, err
	}
	var err error
	if w.hashes, err = hashPasswords(ctx, items); err != nil {
		return nil, err
	}
	for _, in := range items {
		w.linked = append(w.linked, in.Groups...)
	}
	plans, err := bulk.Write(ctx, s.db, userSpec, w, bulk.Targets(items), w.now)
	return bulk.Results(plans, err, func(pl *plan) *User { return pl.after })
}

// userWrite is one write request of users: the user rules of the kernel's
// steps (bulk.Resource).
type userWrite struct {
	s         *Store
	p         *policy.Principal
	items     []*Input
	now       time.Time
	sessionID int64
	hashes    map[*Input]string // the new passwords' hashes, computed before the transaction
	linked    []int64           // the groups of _groups

	current map[int64]*User      // the locked users, by id
	groups  map[int64]*groupInfo // the groups the decisions read
}

// rowID is u.ID, the key of bulk.ByID.
func (u *User) rowID() int64 { return u.ID }

// Lock locks (lockForDecision) and loads the users the request updates and
// the groups the decisions read: those of _groups and those the users are
// in.
func (w *userWrite) Lock(ctx context.Context, tx *sql.Tx, ids []int64) error {
	if err := lockForDecision(ctx, tx, ids, lockUpdate, w.linked); err != nil {
		return err
	}
	current, err := findUsers(ctx, tx, w.p, w.now, ids, findOptions{forDecision: true})
	if err != nil {
		return err
	}
	w.current = bulk.ByID(current, (*User).rowID)
	groupIDs := slices.Clone(w.linked)
	for _, u := range current {
		groupIDs = append(groupIDs, u.GroupIDs()...)
	}
	w.groups, err = loadGroups(ctx, tx, groupIDs)
	return err
}

// Decide decides item i and names what it claims and references.
func (w *userWrite) Decide(i int) (*plan, error) {
	in := w.items[i]
	var pl *plan
	var err error
	if in.IsCreate() {
		pl, err = w.s.decideCreate(w.p, in, w.groups)
	} else {
		pl, err = w.s.decideUpdate(w.p, in, w.current, w.groups)
	}
	if err != nil {
		return nil, err
	}
	if h, ok := w.hashes[in]; ok {
		pl.passwordHash = &h
	}
	pl.Index, pl.Owner, pl.Claims = in.Index, in.Owner, pl.claims()
	return pl, nil
}

// Unique namespaces of users: the names one logs in with (logins and
// e-mail addresses with use_for_login share one, case-insensitively: each
// names at most one user at login), and references.
const (
	nsLogin     = "login"
	nsReference = "reference"
)

// claims are the unique values of the user as pl writes it.
func (pl *plan) claims() []bulk.Claim {
	var out []bulk.Claim
	var had []string
	if pl.before != nil {
		had = loginsOf(pl.before.Login, pl.before.Emails)
	}
	login := pl.texts["login"]
	for i, l := range loginsOf(login, pl.emails) {
		attribute := "_emails.email"
		if i == 0 && login != nil {
			attribute = "user.login"
		}
		out = append(out, bulk.Claim{Namespace: nsLogin, Value: l, Attribute: attribute, New: !slices.Contains(had, l)})
	}
	if r := pl.texts["reference"]; r != nil {
		out = append(out, bulk.Claim{Namespace: nsReference, Value: *r, Attribute: "user.reference",
			New: pl.before == nil || !sameString(r, pl.before.Reference)})
	}
	return out
}

// loginsOf are the names a user can log in with, lower-cased: its login
// and its e-mail addresses marked use_for_login, the login first.
func loginsOf(login *string, emails []Email) []string {
	var out []string
	if login != nil {
		out = append(out, strings.ToLower(*login))
	}
	for _, e := range emails {
		if e.UseForLogin {
			if l := strings.ToLower(e.Email); !slices.Contains(out, l) {
				out = append(out, l)
			}
		}
	}
	return out
}

// loginLockKey is the advisory lock of writes to logins and login e-mails
// ("login" in ASCII).
const loginLockKey = 0x6c6f67696e

// Holders finds the users that hold the claimed logins and references.
// Logins are unique across users' logins and login e-mails, two tables no
// index spans: writes that give out logins take turns (loginLockKey), each
// looking at what the one before committed.
func (w *userWrite) Holders(ctx context.Context, tx *sql.Tx, claims []bulk.Claim) ([]bulk.Holder, error) {
	var logins, refs []string
	for _, c := range claims {
		if c.Namespace == nsLogin {
			logins = append(logins, c.Value)
		} else {
			refs = append(refs, c.Value)
		}
	}
	if len(logins) > 0 {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, loginLockKey); err != nil {
			return nil, errors.Database(err)
		}
	}
	return bulk.QueryHolders(ctx, tx, `
		SELECT id, '`+nsLogin+`', lower(login) FROM users WHERE lower(login) = ANY($1::text[])
		UNION ALL SELECT user_id, '`+nsLogin+`', lower(email) FROM user_emails WHERE use_for_login AND lower(email) = ANY($1::text[])
		UNION ALL SELECT id, '`+nsReference+`', reference FROM users WHERE reference = ANY($2::text[])`,
		pq.Array(logins), pq.Array(refs))
}

// ReadBack reads the written users in full format.
func (w *userWrite) ReadBack(ctx context.Context, tx *sql.Tx, plans []*plan) error {
	ids := make([]int64, len(plans))
	for i, pl := range plans {
		ids[i] = pl.ID
	}
	written, err := findUsers(ctx, tx, w.p, w.now, ids, findOptions{})
	if err != nil {
		return err
	}
	byID := bulk.ByID(written, (*User).rowID)
	for _, pl := range plans {
		pl.after = byID[pl.ID]
	}
	return nil
}

// Events are a create or update event per user, and an event per
// membership gained or lost.
func (w *userWrite) Events(plans []*plan) ([]audit.Event, error) {
	events := make([]audit.Event, 0, len(plans))
	for _, pl := range plans {
		ev, err := userEvent(w.p.UserID, pl.before, pl.after)
		if err != nil {
			return nil, err
		}
		events = append(events, ev)
		events = append(events, membershipEvents(w.p.UserID, pl.ID, pl.add, pl.remove)...)
	}
	return events, nil
}

// userEvent is the audit event of a user's create (before nil), update or
// delete (after nil), with the user's full format before and after.
func userEvent(actor int64, before, after *User) (audit.Event, error) {
	ev := audit.Event{ActorUserID: actor, ObjectType: "user"}
	var err error
	switch {
	case before == nil:
		ev.Action, ev.ObjectID = "create", after.ID
	case after == nil:
		ev.Action, ev.ObjectID = "delete", before.ID
	default:
		ev.Action, ev.ObjectID = "update", after.ID
	}
	if before != nil {
		if ev.Before, err = json.Marshal(before); err != nil {
			return ev, errors.ServerGeneric(err)
		}
	}
	if after != nil {
		if ev.After, err = json.Marshal(after); err != nil {
			return ev, errors.ServerGeneric(err)
		}
	}
	return ev, nil
}

// Notify ends the other sessions of users whose password changed, and
// tells every process that what the updated users hold (groups, system
// rights, login, type, login_disabled) may have changed: each drops their
// cached principals when this commits.
func (w *userWrite) Notify(ctx context.Context, tx *sql.Tx, plans []*plan) error {
	if w.s.notify == nil {
		return nil
	}
	var updated, passwords []int64
	for _, pl := range plans {
		if pl.before == nil {
			continue
		}
		updated = append(updated, pl.ID)
		if pl.passwordChanged {
			passwords = append(passwords, pl.ID)
		}
	}
	if err := w.s.notify.EndSessions(ctx, tx, passwords, w.sessionID); err != nil {
		return err
	}
	if len(updated) == 0 {
		return nil
	}
	return w.s.notify.NotifyUsers(ctx, tx, updated...)
}

// decideUpdate checks one update against the rules of the package comment
// and computes the user as it will be written.
func (s *Store) decideUpdate(p *policy.Principal, in *Input, current map[int64]*User,
	groups map[int64]*groupInfo) (*plan, error) {
	cur, ok := current[in.ID]
	if !ok {
		return nil, errors.UserNotFound(strconv.FormatInt(in.ID, 10))
	}
	canWrite, err := s.mayUpdate(p, in, cur)
	if err != nil {
		return nil, err
	}
	if err := checkType(in, cur); err != nil {
		return nil, err
	}
	pl := updatePlan(in, cur)
	changed := pl.applyAttributes(in, cur)
	if in.LoginDisabledSet && in.LoginDisabled && cur.ID == p.UserID {
		return nil, errors.UserAutoDisable()
	}
	if !canWrite { // self-service
		for _, attr := range changed {
			if !s.selfWritable(p, attr) {
				return nil, errors.InsufficientRights("update", "user", strconv.FormatInt(cur.ID, 10), rights.Write)
			}
		}
	}
	if err := pl.keepsSystemUser(cur, changed); err != nil {
		return nil, err
	}
	if err := s.mayChangeGrants(p, pl, cur); err != nil {
		return nil, err
	}
	if err := s.checkLinks(p, cur.ID, cur.IsSystem(), pl.add, pl.remove, groups); err != nil {
		return nil, err
	}
	return pl, nil
}

// mayUpdate decides whether p may update cur at all: with write on it, or
// on itself (then canWrite is false, and only the self-service attributes
// may change), at the next version; a holder of system.root only by a
// holder, as whoever may change it (its password, its login) could act as
// root.
func (s *Store) mayUpdate(p *policy.Principal, in *Input, cur *User) (canWrite bool, err error) {
	canWrite, err = s.authz.Can(p, rights.Write, cur.PolicyObject())
	if err != nil {
		return false, errors.ServerGeneric(err)
	}
	if !canWrite && cur.ID != p.UserID {
		return false, errors.InsufficientRights("update", "user", strconv.FormatInt(cur.ID, 10), rights.Write)
	}
	if in.Version != cur.Version+1 {
		return false, errors.VersionMismatch(in.Version, cur.Version+1)
	}
	if cur.HoldsRoot && !s.authz.HasSystemRight(p, rights.SystemRoot, "") {
		return false, errors.NoSystemRight(rights.SystemRoot)
	}
	return canWrite, nil
}

// updatePlan is the plan that leaves cur as it is.
func updatePlan(in *Input, cur *User) *plan {
	pl := &plan{Item: bulk.Item{ID: cur.ID, ACL: cur.ACL}, before: cur, version: in.Version, typ: cur.Type,
		texts: textsOf(cur), loginDisabled: cur.LoginDisabled, frontendPrefs: cur.FrontendPrefs,
		systemRights: cur.SystemRights, emails: cur.Emails, groups: cur.GroupIDs()}
	if cur.Owner != nil {
		if cur.Owner.Kind == "group" {
			pl.ownerGroup = cur.Owner.ID
		} else {
			pl.ownerUser = cur.Owner.ID
		}
	}
	return pl
}

// applyAttributes applies what in changes and returns the names of the
// attributes that change, for the self-service and system-user rules. The
// type change was checked (checkType).
func (pl *plan) applyAttributes(in *Input, cur *User) (changed []string) {
	if in.Type != "" && in.Type != cur.Type {
		pl.typ = in.Type
		changed = append(changed, "type")
	}
	for _, name := range textFieldNames {
		v, given := in.Texts[name]
		if !given || sameString(v, pl.texts[name]) {
			continue
		}
		pl.texts[name] = v
		changed = append(changed, name)
	}
	if in.LoginDisabledSet && in.LoginDisabled != cur.LoginDisabled {
		pl.loginDisabled = in.LoginDisabled
		changed = append(changed, "login_disabled")
	}
	if in.FrontendPrefsSet && !sameJSON(in.FrontendPrefs, cur.FrontendPrefs) {
		pl.frontendPrefs = in.FrontendPrefs
		changed = append(changed, "frontend_prefs")
	}
	if in.PasswordSet || in.PasswordClear {
		pl.passwordChanged = true
		changed = append(changed, "_password")
	}
	if in.EmailsSet && !slices.Equal(in.Emails, cur.Emails) {
		pl.emails, pl.emailsChanged = in.Emails, true
		changed = append(changed, "_emails")
	}
	if in.Owner != nil && !(in.Owner.Kind == "user" && in.Owner.ID == pl.ownerUser) &&
		!(in.Owner.Kind == "group" && in.Owner.ID == pl.ownerGroup) {
		pl.ownerChanged = true
		pl.ownerUser, pl.ownerGroup = 0, 0
		if in.Owner.Kind == "user" {
			pl.ownerUser = in.Owner.ID
		} else {
			pl.ownerGroup = in.Owner.ID
		}
		changed = append(changed, "_owner")
	}
	if in.ACLSet && !acl.SameGrants(in.ACL, cur.ACL) {
		pl.ACL, pl.ACLChanged = acl.KeepIDs(in.ACL, cur.ACL), true
		changed = append(changed, "_acl")
	}
	if in.SystemRightsSet && !rights.Equal(in.SystemRights, cur.SystemRights) {
		pl.systemRights, pl.rightsChanged = in.SystemRights, true
		changed = append(changed, "_system_rights")
	}
	if in.GroupsSet {
		pl.groups = in.Groups
		pl.add, pl.remove = diff(cur.GroupIDs(), in.Groups)
		if len(pl.add)+len(pl.remove) > 0 {
			changed = append(changed, "_groups")
		}
	}
	return changed
}

// checkType: easydb converts only email and easydb_self_register users to
// easydb users.
func checkType(in *Input, cur *User) error {
	if in.Type == "" || in.Type == cur.Type {
		return nil
	}
	if in.Type != "easydb" || (cur.Type != "email" && cur.Type != "easydb_self_register") {
		return errors.InvalidValue("user.type", "a "+cur.Type+" user cannot become "+in.Type)
	}
	return nil
}

// keepsSystemUser: a system user keeps its login, its _acl and every
// system right it holds.
func (pl *plan) keepsSystemUser(cur *User, changed []string) error {
	if !cur.IsSystem() {
		return nil
	}
	if slices.Contains(changed, "login") {
		return errors.UpdateSystemUser(cur.ID, "user.login")
	}
	if pl.ACLChanged {
		return errors.UpdateSystemUser(cur.ID, "_acl")
	}
	for name := range cur.SystemRights {
		if _, kept := pl.systemRights[name]; !kept {
			return errors.UpdateSystemUser(cur.ID, "_system_rights."+name)
		}
	}
	return nil
}

// mayChangeGrants: handing a user to someone else, or changing who may act
// on it, is an ACL-grade change (system.user edit_acl); changing its system
// rights needs edit_system_rights, and system.root's, system.root.
func (s *Store) mayChangeGrants(p *policy.Principal, pl *plan, cur *User) error {
	if (pl.ownerChanged || pl.ACLChanged) && !s.authz.HasSystemRight(p, rights.SystemUser, rights.ParamEditACL) {
		return errors.NoSystemRightParam(rights.SystemUser, rights.ParamEditACL)
	}
	if !pl.rightsChanged {
		return nil
	}
	return bulk.MayChangeSystemRights(s.authz, p, rights.SystemUser, cur.SystemRights, pl.systemRights)
}

// checkPasswordPolicy applies s.Passwords, before any transaction (the old
// password costs a hash): every new password must pass CheckNewPassword, and
// a user changing or removing its own password must send the current one as
// _old_password.
func (s *Store) checkPasswordPolicy(ctx context.Context, p *policy.Principal, items []*Input) error {
	if s.Passwords == nil {
		return nil
	}
	for _, in := range items {
		if in.PasswordSet {
			if err := s.Passwords.CheckNewPassword("_password", string(in.Password)); err != nil {
				return errors.WithIndex(err, in.Index)
			}
		}
		if in.ID == 0 || in.ID != p.UserID || !in.PasswordSet && !in.PasswordClear {
			continue
		}
		if !in.OldPasswordSet {
			return errors.WithIndex(errors.AttributeExpected("_old_password"), in.Index)
		}
		if err := s.Passwords.VerifyPassword(ctx, p.UserID, string(in.OldPassword)); err != nil {
			return errors.WithIndex(err, in.Index)
		}
	}
	return nil
}

// selfWritable reports whether a user may change attribute attr on itself
// without the write right: frontend_language and frontend_prefs always, the
// fields of system.user.write_self whose parameter it holds, and its
// password with system.user.change_password.
func (s *Store) selfWritable(p *policy.Principal, attr string) bool {
	switch attr {
	case "frontend_language", "frontend_prefs":
		return true
	case "_password":
		return s.authz.HasSystemRight(p, rights.SystemUserChangePassword, "")
	case "first_name", "last_name", "displayname", "company", "department", "phone", "street", "house_number",
		"address_supplement", "postal_code", "town", "country":
		return s.authz.HasSystemRight(p, rights.SystemUserWriteSelf, attr)
	}
	return false
}

func (s *Store) decideCreate(p *policy.Principal, in *Input, groups map[int64]*groupInfo) (*plan, error) {
	if !s.authz.HasSystemRight(p, rights.SystemUser, rights.ParamCreate) {
		return nil, errors.NoSystemRightParam(rights.SystemUser, rights.ParamCreate)
	}
	if in.Version != 0 && in.Version != 1 {
		return nil, errors.VersionMismatch(in.Version, 1)
	}
	typ := in.Type
	if typ == "" {
		typ = "easydb"
	}
	if !slices.Contains(createTypes, typ) && !rights.IsCustomGroupType(typ) {
		return nil, errors.InvalidValue("user.type", `only "easydb", "easydb_self_register" and "custom-<name>" users are created through the API`)
	}
	if err := bulk.MayCreateGrants(s.authz, p, rights.SystemUser, in.Grants); err != nil {
		return nil, err
	}
	pl := &plan{Item: bulk.Item{Create: true, ACL: in.ACL, ACLChanged: len(in.ACL) > 0}, version: 1,
		typ: typ, texts: map[string]*string{}, loginDisabled: in.LoginDisabled, frontendPrefs: in.FrontendPrefs,
		systemRights: in.SystemRights, ownerUser: p.UserID, emails: in.Emails, emailsChanged: len(in.Emails) > 0,
		groups: in.Groups, add: in.Groups, passwordChanged: in.PasswordSet}
	maps.Copy(pl.texts, in.Texts)
	if pl.systemRights == nil {
		pl.systemRights = rights.Map{}
	}
	// Creating implies write, and the rules of an update apply: linking the
	// new user to a group needs link on it. The user has no id yet: 0.
	if err := s.checkLinks(p, 0, false, pl.add, nil, groups); err != nil {
		return nil, err
	}
	return pl, nil
}

// checkLinks: adding user userID to the groups add needs link on each,
// removing it from the groups remove needs unlink; system groups are never
// linked or unlinked, nor is a system user to or from any group; a group
// that grants system.root needs system.root.
func (s *Store) checkLinks(p *policy.Principal, userID int64, userIsSystem bool, add, remove []int64,
	groups map[int64]*groupInfo) error {
	for _, change := range []struct {
		ids   []int64
		right string
	}{{add, rights.Link}, {remove, rights.Unlink}} {
		for _, gid := range change.ids {
			g, ok := groups[gid]
			if !ok {
				return errors.GroupNotFound(strconv.FormatInt(gid, 10))
			}
			if err := s.mayChangeMembers(p, g, change.right, userID, userIsSystem); err != nil {
				return err
			}
		}
	}
	return nil
}

// mayChangeMembers decides whether p may change the membership of user
// userID in group g with right (link or unlink).
func (s *Store) mayChangeMembers(p *policy.Principal, g *groupInfo, right string, userID int64, userIsSystem bool) error {
	if g.IsSystem() || userIsSystem {
		return errors.UserUpdateSystemGroup(userID, g.ID)
	}
	if g.HoldsRoot && !s.authz.HasSystemRight(p, rights.SystemRoot, "") {
		// Its members hold system.root: only a holder may pass it on.
		return errors.NoSystemRight(rights.SystemRoot)
	}
	ok, err := s.authz.Can(p, right, g.obj)
	if err != nil {
		return errors.ServerGeneric(err)
	}
	if !ok {
		return errors.InsufficientRights("update", "group", strconv.FormatInt(g.ID, 10), right)
	}
	return nil
}

// textsOf is every textField of u.
func textsOf(u *User) map[string]*string {
	m := map[string]*string{"login": u.Login, "first_name": u.FirstName, "last_name": u.LastName,
		"displayname": u.Displayname, "frontend_language": u.FrontendLanguage, "reference": u.Reference}
	for _, f := range ProfileFields {
		if v, ok := u.Profile[f]; ok {
			m[f] = &v
		} else {
			m[f] = nil
		}
	}
	return m
}

// diff returns what to has that from lacks, and what from has that to
// lacks; both are sorted.
func diff(from, to []int64) (added, removed []int64) {
	for _, id := range to {
		if !slices.Contains(from, id) {
			added = append(added, id)
		}
	}
	for _, id := range from {
		if !slices.Contains(to, id) {
			removed = append(removed, id)
		}
	}
	return added, removed
}

// hashPasswords hashes the new passwords of items (argon2id, package
// session), as many at once as there are CPUs, and returns them by item. It
// runs before the write's transaction, so that no connection or row lock is
// held while it computes (a hash takes tens of milliseconds), and checks ctx
// before each hash, so that a client that went away, or a request past its
// time, stops the work. A refused request thus costs its hashes: the number
// of passwords a request may carry is limited (Handler.MaxPasswords) to keep
// that bounded.
func hashPasswords(ctx context.Context, items []*Input) (map[*Input]string, error) {
	var todo []*Input
	for _, in := range items {
		if in.PasswordSet {
			todo = append(todo, in)
		}
	}
	out := make(map[*Input]string, len(todo))
	if len(todo) == 0 {
		return out, nil
	}
	work := make(chan *Input)
	type hashed struct {
		in   *Input
		hash string
		err  error
	}
	results := make(chan hashed, len(todo))
	var wg sync.WaitGroup
	for range min(len(todo), runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for in := range work {
				if err := ctx.Err(); err != nil {
					results <- hashed{err: errors.ServerGeneric(err)}
					continue
				}
				h, err := passwords.Hash(string(in.Password))
				if err != nil {
					err = errors.ServerGeneric(err)
				}
				results <- hashed{in, h, err}
			}
		}()
	}
feed:
	for _, in := range todo {
		select {
		case work <- in:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	close(results)
	for r := range results {
		if r.err != nil {
			return nil, r.err
		}
		out[r.in] = r.hash
	}
	if err := ctx.Err(); err != nil {
		return nil, errors.ServerGeneric(err)
	}
	return out, nil
}

// userRow, emailRow and memberRow are the JSON records that
// jsonb_to_recordset turns into rows: one statement per table, whatever the
// number of items.
type userRow struct {
	ID               int64             `json:"id"`
	Version          int64             `json:"version"`
	Type             string            `json:"type"`
	Login            *string           `json:"login"`
	FirstName        *string           `json:"first_name"`
	LastName         *string           `json:"last_name"`
	Displayname      *string           `json:"displayname"`
	FrontendLanguage *string           `json:"frontend_language"`
	Reference        *string           `json:"reference"`
	LoginDisabled    bool              `json:"login_disabled"`
	Profile          map[string]string `json:"profile"`
	FrontendPrefs    json.RawMessage   `json:"frontend_prefs"`
	SystemRights     rights.Map        `json:"system_rights"`
	OwnerUser        *int64            `json:"owner_user_id"`
	OwnerGroup       *int64            `json:"owner_group_id"`
	PasswordSet      bool              `json:"password_set"`
	PasswordHash     *string           `json:"password_hash"`
}

const userColumns = `id bigint, version bigint, type text, login text, first_name text, last_name text,
	displayname text, frontend_language text, reference text, login_disabled boolean, profile jsonb,
	frontend_prefs jsonb, system_rights jsonb, owner_user_id bigint, owner_group_id bigint, password_set boolean,
	password_hash text`

type emailRow struct {
	UserID   int64 `json:"user_id"`
	Position int   `json:"position"`
	Email
}

type memberRow struct {
	GroupID int64 `json:"group_id"`
	UserID  int64 `json:"user_id"`
}

func nonZero(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// WriteRows writes the users of plans with a fixed number of statements:
// one INSERT of the new users, one UPDATE of the changed ones, and the
// addresses and memberships that changed. It is the one place where a
// write's user statements are issued.
func (w *userWrite) WriteRows(ctx context.Context, tx *sql.Tx, creates, updates []*plan) error {
	d := w.s.db
	if len(creates) > 0 {
		if err := d.ExecRecords(ctx, tx, `INSERT INTO users (id, version, type, login, first_name, last_name,
			displayname, frontend_language, reference, login_disabled, profile, frontend_prefs, system_rights,
			owner_user_id, owner_group_id, password_hash, created_at, updated_at)
			SELECT r.id, r.version, r.type, r.login, r.first_name, r.last_name, r.displayname, r.frontend_language,
				r.reference, r.login_disabled, r.profile, r.frontend_prefs, r.system_rights, r.owner_user_id,
				r.owner_group_id, r.password_hash, $2, $2
			FROM jsonb_to_recordset($1) AS r(`+userColumns+`)`, toUserRows(creates), userUnique, w.now); err != nil {
			return err
		}
	}
	if len(updates) > 0 {
		if err := d.ExecRecords(ctx, tx, `UPDATE users u SET version = r.version, type = r.type, login = r.login,
			first_name = r.first_name, last_name = r.last_name, displayname = r.displayname,
			frontend_language = r.frontend_language, reference = r.reference, login_disabled = r.login_disabled,
			profile = r.profile, frontend_prefs = r.frontend_prefs, system_rights = r.system_rights,
			owner_user_id = r.owner_user_id, owner_group_id = r.owner_group_id,
			password_hash = CASE WHEN r.password_set THEN r.password_hash ELSE u.password_hash END, updated_at = $2
			FROM jsonb_to_recordset($1) AS r(`+userColumns+`) WHERE u.id = r.id`, toUserRows(updates), userUnique, w.now); err != nil {
			return err
		}
	}
	plans := append(slices.Clip(creates), updates...)
	if err := w.writeEmails(ctx, tx, plans); err != nil {
		return err
	}
	return w.writeMemberships(ctx, tx, plans)
}

// writeEmails replaces the addresses of the users whose addresses changed.
func (w *userWrite) writeEmails(ctx context.Context, tx *sql.Tx, plans []*plan) error {
	var replaced []int64
	var emails []emailRow
	for _, pl := range plans {
		if pl.emailsChanged {
			replaced = append(replaced, pl.ID)
			for pos, e := range pl.emails {
				emails = append(emails, emailRow{pl.ID, pos, e})
			}
		}
	}
	if len(replaced) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM user_emails WHERE user_id = ANY($1::bigint[])`,
		pq.Array(replaced)); err != nil {
		return errors.Database(err)
	}
	return w.s.db.ExecRecords(ctx, tx, `INSERT INTO user_emails (user_id, position, email, use_for_login,
		use_for_email, needs_confirmation)
		SELECT r.user_id, r.position, r.email, r.use_for_login, r.use_for_email, r.needs_confirmation
		FROM jsonb_to_recordset($1) AS r(user_id bigint, position int, email text, use_for_login boolean,
			use_for_email boolean, needs_confirmation boolean)`, emails, userUnique)
}

// writeMemberships removes and adds the static memberships that changed.
func (w *userWrite) writeMemberships(ctx context.Context, tx *sql.Tx, plans []*plan) error {
	var adds, removes []memberRow
	for _, pl := range plans {
		for _, g := range pl.add {
			adds = append(adds, memberRow{g, pl.ID})
		}
		for _, g := range pl.remove {
			removes = append(removes, memberRow{g, pl.ID})
		}
	}
	if len(removes) > 0 {
		if err := w.s.db.ExecRecords(ctx, tx, `DELETE FROM memberships m USING jsonb_to_recordset($1) AS r(group_id bigint, user_id bigint)
			WHERE m.group_id = r.group_id AND m.user_id = r.user_id`, removes, userUnique); err != nil {
			return err
		}
	}
	if len(adds) > 0 {
		return w.s.db.ExecRecords(ctx, tx, `INSERT INTO memberships (group_id, user_id, created_at)
			SELECT r.group_id, r.user_id, $2 FROM jsonb_to_recordset($1) AS r(group_id bigint, user_id bigint)
			ORDER BY r.group_id, r.user_id ON CONFLICT DO NOTHING`, adds, userUnique, w.now)
	}
	return nil
}

func toUserRows(plans []*plan) []userRow {
	rows := make([]userRow, len(plans))
	for i, pl := range plans {
		t := pl.texts
		profile := map[string]string{}
		for _, f := range ProfileFields {
			if v := t[f]; v != nil {
				profile[f] = *v
			}
		}
		rows[i] = userRow{ID: pl.ID, Version: pl.version, Type: pl.typ, Login: t["login"], FirstName: t["first_name"],
			LastName: t["last_name"], Displayname: t["displayname"], FrontendLanguage: t["frontend_language"],
			Reference: t["reference"], LoginDisabled: pl.loginDisabled, Profile: profile, FrontendPrefs: pl.frontendPrefs,
			SystemRights: pl.systemRights, OwnerUser: nonZero(pl.ownerUser), OwnerGroup: nonZero(pl.ownerGroup),
			PasswordSet: pl.passwordChanged, PasswordHash: pl.passwordHash}
	}
	return rows
}

// userUnique: the unique constraints a user write may violate.
var userUnique = db.Constraints{
	"users_login_key":       "user.login",
	"users_reference_key":   "user.reference",
	"user_emails_login_key": "_emails.email",
}

// membershipEvents are the audit events of user userID gaining the groups
// add and losing the groups remove: object_type "membership", object_id the
// group.
func membershipEvents(actor, userID int64, add, remove []int64) []audit.Event {
	events := make([]audit.Event, 0, len(add)+len(remove))
	for _, g := range add {
		events = append(events, audit.Event{ActorUserID: actor, ObjectType: "membership", ObjectID: g,
			Action: "add_member", After: membershipJSON(g, userID)})
	}
	for _, g := range remove {
		events = append(events, audit.Event{ActorUserID: actor, ObjectType: "membership", ObjectID: g,
			Action: "remove_member", Before: membershipJSON(g, userID)})
	}
	return events
}

func membershipJSON(groupID, userID int64) json.RawMessage {
	return json.RawMessage(`{"group_id":` + strconv.FormatInt(groupID, 10) + `,"user_id":` +
		strconv.FormatInt(userID, 10) + `}`)
}

// userDeletes: deleting a user needs delete on it; system users stay.
var userDeletes = bulk.DeleteRule{Right: rights.Delete, NotFound: errors.UserNotFound, System: errors.DeleteSystemUser}

// Delete deletes user id with its memberships, addresses, ACL entries
// naming it and sessions, in one transaction that also tells every process.
func (s *Store) Delete(ctx context.Context, p *policy.Principal, id int64) error {
	now := s.db.Now()
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := lockForDecision(ctx, tx, []int64{id}, lockDelete, nil); err != nil {
			return err
		}
		us, err := findUsers(ctx, tx, p, now, []int64{id}, findOptions{forDecision: true})
		if err != nil {
			return err
		}
		u, err := bulk.MayDeleteOne(s.authz, p, userDeletes, id, us)
		if err != nil {
			return err
		}
		if u.HoldsRoot && !s.authz.HasSystemRight(p, rights.SystemRoot, "") {
			return errors.NoSystemRight(rights.SystemRoot)
		}
		if err = bulk.RefuseGroupOwner(ctx, tx, acl.Subject{Kind: "user", ID: id}); err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, `DELETE FROM users WHERE id = $1`, id); err != nil {
			return errors.Database(err)
		}
		ev, err := userEvent(p.UserID, u, nil)
		if err != nil {
			return err
		}
		if err = audit.Record(ctx, tx, append([]audit.Event{ev}, membershipEvents(p.UserID, id, nil, u.GroupIDs())...)); err != nil {
			return err
		}
		if s.notify == nil {
			return nil
		}
		if err = s.notify.NotifyUsers(ctx, tx, id); err != nil {
			return err
		}
		// A deleted user's sessions end with it (its row's deletion
		// cascades to them); every process drops them.
		return s.notify.EndSessions(ctx, tx, []int64{id}, 0)
	})
}

func sameString(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func sameJSON(a, b json.RawMessage) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	// Marshalled again, both have the same key order and spacing.
	cx, errX := json.Marshal(x)
	cy, errY := json.Marshal(y)
	return errX == nil && errY == nil && string(cx) == string(cy)
}
