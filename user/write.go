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
	"github.com/groupd/groupd/passwords"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
	"github.com/lib/pq"
)

// plan is one item's decided outcome: the user as it will be written.
type plan struct {
	in     *Input
	before *User // nil for a create

	id            int64
	version       int64
	typ           string
	texts         map[string]*string // every textField's final value
	loginDisabled bool
	frontendPrefs json.RawMessage
	systemRights  rights.Map
	ownerUser     int64
	ownerGroup    int64
	acl           []acl.Entry
	emails        []Email
	groups        []int64 // the final static groups, ascending
	add, remove   []int64 // static groups gained and lost

	passwordHash                          *string // the new hash; nil with passwordChanged: no password
	passwordChanged                       bool
	aclChanged, emailsChanged, rightsChng bool
}

// createTypes are the user types the API creates (besides custom-*).
var createTypes = []string{"easydb", "easydb_self_register"}

// Write creates and updates users for principal p, all in one transaction:
// any refused or invalid item (its error carries parameters.index) leaves the
// database exactly as it was. sessionID is the caller's session, which a
// change of the caller's own password keeps (the user's other sessions
// end). The result is the written users in full format, in input order.
func (s *Store) Write(ctx context.Context, p *policy.Principal, sessionID int64, items []*Input) ([]*User, error) {
	seen := map[int64]bool{}
	var updateIDs []int64
	for _, in := range items {
		if in.IsCreate() {
			continue
		}
		if seen[in.ID] {
			return nil, errors.WithIndex(errors.InvalidValue("user._id", "user "+strconv.FormatInt(in.ID, 10)+
				" appears more than once in the request"), in.Index)
		}
		seen[in.ID] = true
		updateIDs = append(updateIDs, in.ID)
	}
	if err := s.checkPasswordPolicy(ctx, p, items); err != nil {
		return nil, err
	}
	hashes, err := hashPasswords(ctx, items)
	if err != nil {
		return nil, err
	}
	now := s.db.Now()
	var out []*User
	var linked []int64 // the groups of _groups
	for _, in := range items {
		linked = append(linked, in.Groups...)
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if lockForDecisionErr := lockForDecision(ctx, tx, updateIDs, lockUpdate, linked); lockForDecisionErr != nil {
			return lockForDecisionErr
		}
		current, txErr := findUsers(ctx, tx, p, now, updateIDs, true)
		if txErr != nil {
			return txErr
		}
		byID := make(map[int64]*User, len(current))
		groupIDs := slices.Clone(linked)
		for _, u := range current {
			byID[u.ID] = u
			groupIDs = append(groupIDs, u.GroupIDs()...)
		}
		groups, txErr := loadGroups(ctx, tx, groupIDs)
		if txErr != nil {
			return txErr
		}
		plans := make([]*plan, len(items))
		for i, in := range items {
			pl, decideErr := s.decide(p, in, byID, groups)
			if decideErr != nil {
				return errors.WithIndex(decideErr, in.Index)
			}
			plans[i] = pl
		}
		if checkReferencesErr := checkReferences(ctx, tx, plans); checkReferencesErr != nil {
			return checkReferencesErr
		}
		if slices.ContainsFunc(plans, changesLogins) {
			// Logins are unique across users' logins and login e-mails, two
			// tables no index spans: writes that change them take turns,
			// each checking what the one before committed.
			if _, execContextErr := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, loginLockKey); execContextErr != nil {
				return errors.Database(execContextErr)
			}
		}
		if checkUniqueErr := checkUnique(ctx, tx, plans); checkUniqueErr != nil {
			return checkUniqueErr
		}
		for _, pl := range plans {
			if h, ok := hashes[pl.in]; ok {
				pl.passwordHash = &h
			}
		}
		if writePlansErr := s.writePlans(ctx, tx, plans, now); writePlansErr != nil {
			return writePlansErr
		}
		ids := make([]int64, len(plans))
		for i, pl := range plans {
			ids[i] = pl.id
		}
		written, txErr := findUsers(ctx, tx, p, now, ids, false)
		if txErr != nil {
			return txErr
		}
		after := make(map[int64]*User, len(written))
		for _, u := range written {
			after[u.ID] = u
		}
		events := make([]audit.Event, 0, len(plans))
		var updated, passwords []int64
		out = make([]*User, len(plans))
		for i, pl := range plans {
			out[i] = after[pl.id]
			ev := audit.Event{ActorUserID: p.UserID, ObjectType: "user", ObjectID: pl.id, Action: "create",
				After: mustJSON(out[i])}
			if pl.before != nil {
				ev.Action, ev.Before = "update", mustJSON(pl.before)
				updated = append(updated, pl.id)
				if pl.passwordChanged {
					passwords = append(passwords, pl.id)
				}
			}
			events = append(events, ev)
			events = append(events, membershipEvents(p.UserID, pl.id, pl.add, pl.remove)...)
		}
		if recordErr := audit.Record(ctx, tx, events); recordErr != nil {
			return recordErr
		}
		if endSessionsErr := endSessions(ctx, tx, s.notify, passwords, sessionID); endSessionsErr != nil {
			return endSessionsErr
		}
		if len(updated) > 0 && s.notify != nil {
			// What a principal holds (groups, system rights, login, type,
			// login_disabled) may have changed: every process drops the
			// cached principals of these users when this commits.
			return s.notify.NotifyUsers(ctx, tx, updated...)
		}
		return nil
	})
	return out, err
}

// loginLockKey is the advisory lock of writes to logins and login e-mails
// ("login" in ASCII).
const loginLockKey = 0x6c6f67696e

// changesLogins reports whether pl gives a user a name it can log in with
// (a login or a login e-mail) that it did not have.
func changesLogins(pl *plan) bool {
	if pl.before == nil {
		return len(loginsOf(pl)) > 0
	}
	return pl.emailsChanged || !sameString(pl.texts["login"], pl.before.Login)
}

// endSessions deletes the sessions of users whose password changed, but for
// the caller's own session, and tells every process.
func endSessions(ctx context.Context, tx *sql.Tx, notify Notifier, userIDs []int64, keep int64) error {
	if len(userIDs) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ANY($1::bigint[]) AND id <> $2`,
		pq.Array(userIDs), keep); err != nil {
		return errors.Database(err)
	}
	if notify == nil {
		return nil
	}
	for _, id := range userIDs {
		if err := notify.NotifySessions(ctx, tx, id); err != nil {
			return err
		}
	}
	return nil
}

// decide checks one item against the rules of the package comment and
// computes the user as it will be written.
func (s *Store) decide(p *policy.Principal, in *Input, current map[int64]*User, groups map[int64]*groupInfo) (*plan, error) {
	if in.IsCreate() {
		return s.decideCreate(p, in, groups)
	}
	cur, ok := current[in.ID]
	if !ok {
		return nil, errors.UserNotFound(strconv.FormatInt(in.ID, 10))
	}
	id := strconv.FormatInt(cur.ID, 10)
	canWrite, err := s.authz.Can(p, rights.Write, cur.PolicyObject())
	if err != nil {
		return nil, errors.ServerGeneric(err)
	}
	self := cur.ID == p.UserID
	if !canWrite && !self {
		return nil, errors.InsufficientRights("update", "user", id, rights.Write)
	}
	if in.Version != cur.Version+1 {
		return nil, errors.VersionMismatch(in.Version, cur.Version+1)
	}
	isRoot := s.authz.HasSystemRight(p, rights.SystemRoot, "")
	if cur.HoldsRoot && !isRoot {
		// Whoever may change a holder of system.root (its password, its
		// login) could act as root: only a holder may.
		return nil, errors.NoSystemRight(rights.SystemRoot)
	}

	pl := &plan{in: in, before: cur, id: cur.ID, version: in.Version, typ: cur.Type, texts: textsOf(cur),
		loginDisabled: cur.LoginDisabled, frontendPrefs: cur.FrontendPrefs, systemRights: cur.SystemRights,
		acl: cur.ACL, emails: cur.Emails, groups: cur.GroupIDs()}
	if cur.Owner != nil {
		if cur.Owner.Kind == "group" {
			pl.ownerGroup = cur.Owner.ID
		} else {
			pl.ownerUser = cur.Owner.ID
		}
	}
	var changed []string // attribute names, for the self-service and system-user rules
	if in.Type != "" && in.Type != cur.Type {
		// easydb converts only email and easydb_self_register users to
		// easydb users.
		if in.Type != "easydb" || (cur.Type != "email" && cur.Type != "easydb_self_register") {
			return nil, errors.InvalidValue("user.type", "a "+cur.Type+" user cannot become "+in.Type)
		}
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
	if in.LoginDisabledSet && in.LoginDisabled && self {
		return nil, errors.UserAutoDisable()
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
	ownerChanged := false
	if in.Owner != nil && !(in.Owner.Kind == "user" && in.Owner.ID == pl.ownerUser) &&
		!(in.Owner.Kind == "group" && in.Owner.ID == pl.ownerGroup) {
		ownerChanged = true
		pl.ownerUser, pl.ownerGroup = 0, 0
		if in.Owner.Kind == "user" {
			pl.ownerUser = in.Owner.ID
		} else {
			pl.ownerGroup = in.Owner.ID
		}
		changed = append(changed, "_owner")
	}
	if in.ACLSet && !acl.SameGrants(in.ACL, cur.ACL) {
		pl.acl, pl.aclChanged = keepEntryIDs(in.ACL, cur.ACL), true
		changed = append(changed, "_acl")
	}
	if in.SystemRightsSet && !rights.Equal(in.SystemRights, cur.SystemRights) {
		pl.systemRights, pl.rightsChng = in.SystemRights, true
		changed = append(changed, "_system_rights")
	}
	if in.GroupsSet {
		pl.groups = in.Groups
		pl.add, pl.remove = diff(cur.GroupIDs(), in.Groups)
		if len(pl.add)+len(pl.remove) > 0 {
			changed = append(changed, "_groups")
		}
	}

	if !canWrite { // self-service
		for _, attr := range changed {
			if !s.selfWritable(p, attr) {
				return nil, errors.InsufficientRights("update", "user", id, rights.Write)
			}
		}
	}
	if cur.IsSystem() {
		if slices.Contains(changed, "login") {
			return nil, errors.UpdateSystemUser(cur.ID, "user.login")
		}
		if pl.aclChanged {
			return nil, errors.UpdateSystemUser(cur.ID, "_acl")
		}
		for name := range cur.SystemRights {
			if _, kept := pl.systemRights[name]; !kept {
				return nil, errors.UpdateSystemUser(cur.ID, "_system_rights."+name)
			}
		}
	}
	if ownerChanged || pl.aclChanged {
		// Handing a user to someone else, or changing who may act on it:
		// an ACL-grade change.
		if !s.authz.HasSystemRight(p, rights.SystemUser, rights.ParamEditACL) {
			return nil, errors.NoSystemRightParam(rights.SystemUser, rights.ParamEditACL)
		}
	}
	if pl.rightsChng {
		if !s.authz.HasSystemRight(p, rights.SystemUser, rights.ParamEditSystemRights) {
			return nil, errors.NoSystemRightParam(rights.SystemUser, rights.ParamEditSystemRights)
		}
		_, hadRoot := cur.SystemRights[rights.SystemRoot]
		_, hasRoot := pl.systemRights[rights.SystemRoot]
		if hadRoot != hasRoot && !isRoot {
			return nil, errors.NoSystemRight(rights.SystemRoot)
		}
	}
	if err := s.checkLinks(p, cur.ID, cur.IsSystem(), pl.add, pl.remove, groups); err != nil {
		return nil, err
	}
	return pl, nil
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
	if in.Owner != nil && (in.Owner.Kind != "user" || in.Owner.ID != p.UserID) {
		return nil, errors.ChangeOwnerOnCreation()
	}
	if len(in.ACL) > 0 && !s.authz.HasSystemRight(p, rights.SystemUser, rights.ParamCreateACL) {
		return nil, errors.NoSystemRightParam(rights.SystemUser, rights.ParamCreateACL)
	}
	if len(in.SystemRights) > 0 {
		if !s.authz.HasSystemRight(p, rights.SystemUser, rights.ParamCreateSystemRights) {
			return nil, errors.NoSystemRightParam(rights.SystemUser, rights.ParamCreateSystemRights)
		}
		if _, ok := in.SystemRights[rights.SystemRoot]; ok && !s.authz.HasSystemRight(p, rights.SystemRoot, "") {
			return nil, errors.NoSystemRight(rights.SystemRoot)
		}
	}
	pl := &plan{in: in, version: 1, typ: typ, texts: map[string]*string{}, loginDisabled: in.LoginDisabled,
		frontendPrefs: in.FrontendPrefs, systemRights: in.SystemRights, ownerUser: p.UserID, acl: in.ACL,
		aclChanged: len(in.ACL) > 0, emails: in.Emails, emailsChanged: len(in.Emails) > 0, groups: in.Groups,
		add: in.Groups, passwordChanged: in.PasswordSet}
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

// keepEntryIDs keeps the id and creation time of entries that name an
// existing entry of the same user by _id; other entries are new.
func keepEntryIDs(entries, current []acl.Entry) []acl.Entry {
	old := make(map[int64]acl.Entry, len(current))
	for _, e := range current {
		old[e.ID] = e
	}
	out := make([]acl.Entry, len(entries))
	for i, e := range entries {
		if o, ok := old[e.ID]; ok && e.ID != 0 {
			e.Created = o.Created
			delete(old, e.ID) // an id is kept once
		} else {
			e.ID = 0
		}
		out[i] = e
	}
	return out
}

// checkReferences: every user and group that an owner or an ACL entry names
// must exist (error.user.user_not_found / group_not_found with its id).
// Groups of _groups were checked with the links.
func checkReferences(ctx context.Context, tx *sql.Tx, plans []*plan) error {
	var users, groups []int64
	for _, pl := range plans {
		if pl.in.Owner != nil {
			if pl.in.Owner.Kind == "user" {
				users = append(users, pl.in.Owner.ID)
			} else {
				groups = append(groups, pl.in.Owner.ID)
			}
		}
		if pl.aclChanged {
			for _, e := range pl.acl {
				if e.WhoUserID != 0 {
					users = append(users, e.WhoUserID)
				}
				if e.WhoGroupID != 0 {
					groups = append(groups, e.WhoGroupID)
				}
			}
		}
	}
	missingUsers, err := missing(ctx, tx, "users", users)
	if err != nil {
		return err
	}
	missingGroups, err := missing(ctx, tx, "groups", groups)
	if err != nil {
		return err
	}
	if len(missingUsers) == 0 && len(missingGroups) == 0 {
		return nil
	}
	for _, pl := range plans { // the first item that names a missing one
		check := func(kind string, id int64) error {
			if kind == "user" && missingUsers[id] {
				return errors.WithIndex(errors.UserNotFound(strconv.FormatInt(id, 10)), pl.in.Index)
			}
			if kind == "group" && missingGroups[id] {
				return errors.WithIndex(errors.GroupNotFound(strconv.FormatInt(id, 10)), pl.in.Index)
			}
			return nil
		}
		if pl.in.Owner != nil {
			if err := check(pl.in.Owner.Kind, pl.in.Owner.ID); err != nil {
				return err
			}
		}
		if pl.aclChanged {
			for _, e := range pl.acl {
				if err := check("user", e.WhoUserID); err != nil {
					return err
				}
				if err := check("group", e.WhoGroupID); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// missing returns which of ids have no row in table (users or groups).
func missing(ctx context.Context, tx *sql.Tx, table string, ids []int64) (map[int64]bool, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT i FROM unnest($1::bigint[]) AS i
		WHERE NOT EXISTS (SELECT 1 FROM `+table+` t WHERE t.id = i)`, pq.Array(ids))
	if err != nil {
		return nil, errors.Database(err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, errors.Database(err)
		}
		out[id] = true
	}
	return out, rows.Err()
}

// loginsOf are the names user pl can log in with, lower-cased: its login
// and its e-mail addresses marked use_for_login.
func loginsOf(pl *plan) []string {
	var out []string
	if l := pl.texts["login"]; l != nil {
		out = append(out, strings.ToLower(*l))
	}
	for _, e := range pl.emails {
		if e.UseForLogin {
			if l := strings.ToLower(e.Email); !slices.Contains(out, l) {
				out = append(out, l)
			}
		}
	}
	return out
}

// checkUnique finds the first item whose login, login e-mail or reference
// is taken, by another item of the request or by a user the request does
// not change, so that the error names the item. A login and an e-mail
// address with use_for_login share one namespace, case-insensitively: each
// names at most one user at login.
func checkUnique(ctx context.Context, tx *sql.Tx, plans []*plan) error {
	final := map[int64]*plan{} // users the request updates, by id
	for _, pl := range plans {
		if pl.id != 0 {
			final[pl.id] = pl
		}
	}
	type key struct{ kind, value string }
	claimed := map[key]*plan{}
	// constraint names the attribute of pl that claims k.
	constraint := func(pl *plan, k key) string {
		if k.kind == "reference" {
			return "user.reference"
		}
		if l := pl.texts["login"]; l != nil && strings.ToLower(*l) == k.value {
			return "user.login"
		}
		return "_emails.email"
	}
	// Items that keep their names claim them first, so that no other item
	// can take them; only the names of the others are looked up.
	keeps := func(pl *plan) bool {
		return pl.before != nil && !pl.emailsChanged && sameString(pl.texts["login"], pl.before.Login) &&
			sameString(pl.texts["reference"], pl.before.Reference)
	}
	for _, pl := range plans {
		if keeps(pl) {
			for _, l := range loginsOf(pl) {
				claimed[key{"login", l}] = pl
			}
			if r := pl.texts["reference"]; r != nil {
				claimed[key{"reference", *r}] = pl
			}
		}
	}
	var logins, refs []string
	for _, pl := range plans {
		if keeps(pl) {
			continue
		}
		var ks []key
		for _, l := range loginsOf(pl) {
			ks = append(ks, key{"login", l})
			logins = append(logins, l)
		}
		if r := pl.texts["reference"]; r != nil {
			ks = append(ks, key{"reference", *r})
			refs = append(refs, *r)
		}
		for _, k := range ks {
			if other, taken := claimed[k]; taken && other != pl {
				return errors.WithIndex(errors.IntegrityConstraintViolation(constraint(pl, k)), pl.in.Index)
			}
			claimed[k] = pl
		}
	}
	if len(logins)+len(refs) == 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `
		SELECT id, 'login', lower(login) FROM users WHERE lower(login) = ANY($1::text[])
		UNION ALL SELECT user_id, 'login', lower(email) FROM user_emails WHERE use_for_login AND lower(email) = ANY($1::text[])
		UNION ALL SELECT id, 'reference', reference FROM users WHERE reference = ANY($2::text[])`,
		pq.Array(logins), pq.Array(refs))
	if err != nil {
		return errors.Database(err)
	}
	defer rows.Close()
	var first *errorAt
	for rows.Next() {
		var id int64
		var k key
		if err := rows.Scan(&id, &k.kind, &k.value); err != nil {
			return errors.Database(err)
		}
		pl := claimed[k]
		if holder, ok := final[id]; ok {
			// The existing holder is in the request: a conflict only if it
			// is another item and the holder keeps the value.
			if holder == pl || !holds(holder, k.kind, k.value) {
				continue
			}
		}
		if first == nil || pl.in.Index < first.index {
			first = &errorAt{pl.in.Index, constraint(pl, k)}
		}
	}
	if err := rows.Err(); err != nil {
		return errors.Database(err)
	}
	if first != nil {
		return errors.WithIndex(errors.IntegrityConstraintViolation(first.constraint), first.index)
	}
	return nil
}

type errorAt struct {
	index      int
	constraint string
}

func holds(pl *plan, kind, value string) bool {
	if kind == "reference" {
		return pl.texts["reference"] != nil && *pl.texts["reference"] == value
	}
	return slices.Contains(loginsOf(pl), value)
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

// userRow, emailRow, aclRowIn and memberRow are the JSON records that
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

type aclRowIn struct {
	ID       int64       `json:"id"`
	UserID   int64       `json:"user_id"`
	Position int         `json:"position"`
	WhoUser  *int64      `json:"who_user_id"`
	WhoGroup *int64      `json:"who_group_id"`
	WhoOwner bool        `json:"who_owner"`
	Rights   rights.Map  `json:"rights"`
	Mask     rights.Mask `json:"mask"`
	Active   bool        `json:"active"`
	From     *time.Time  `json:"valid_from"`
	To       *time.Time  `json:"valid_to"`
	Created  *time.Time  `json:"created_at"`
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

// writePlans writes all plans with a fixed number of statements: ids for new
// users and entries from their sequences, one INSERT of the new users, one
// UPDATE of the changed ones, and the addresses, ACLs and memberships that
// changed.
func (s *Store) writePlans(ctx context.Context, tx *sql.Tx, plans []*plan, now time.Time) error {
	var creates, updates []*plan
	for _, pl := range plans {
		if pl.before == nil {
			creates = append(creates, pl)
		} else {
			updates = append(updates, pl)
		}
	}
	if len(creates) > 0 {
		ids, err := db.NextIDs(ctx, tx, "users", len(creates))
		if err != nil {
			return err
		}
		for i, pl := range creates {
			pl.id = ids[i]
		}
		if err := s.db.ExecRecords(ctx, tx, `INSERT INTO users (id, version, type, login, first_name, last_name,
			displayname, frontend_language, reference, login_disabled, profile, frontend_prefs, system_rights,
			owner_user_id, owner_group_id, password_hash, created_at, updated_at)
			SELECT r.id, r.version, r.type, r.login, r.first_name, r.last_name, r.displayname, r.frontend_language,
				r.reference, r.login_disabled, r.profile, r.frontend_prefs, r.system_rights, r.owner_user_id,
				r.owner_group_id, r.password_hash, $2, $2
			FROM jsonb_to_recordset($1) AS r(`+userColumns+`)`, toUserRows(creates), userUnique, now); err != nil {
			return err
		}
	}
	if len(updates) > 0 {
		if err := s.db.ExecRecords(ctx, tx, `UPDATE users u SET version = r.version, type = r.type, login = r.login,
			first_name = r.first_name, last_name = r.last_name, displayname = r.displayname,
			frontend_language = r.frontend_language, reference = r.reference, login_disabled = r.login_disabled,
			profile = r.profile, frontend_prefs = r.frontend_prefs, system_rights = r.system_rights,
			owner_user_id = r.owner_user_id, owner_group_id = r.owner_group_id,
			password_hash = CASE WHEN r.password_set THEN r.password_hash ELSE u.password_hash END, updated_at = $2
			FROM jsonb_to_recordset($1) AS r(`+userColumns+`) WHERE u.id = r.id`, toUserRows(updates), userUnique, now); err != nil {
			return err
		}
	}

	var emailUsers, aclUsers []int64
	var emails []emailRow
	var adds, removes []memberRow
	newEntries := 0
	for _, pl := range plans {
		if pl.emailsChanged {
			emailUsers = append(emailUsers, pl.id)
			for pos, e := range pl.emails {
				emails = append(emails, emailRow{pl.id, pos, e})
			}
		}
		if pl.aclChanged {
			aclUsers = append(aclUsers, pl.id)
			for _, e := range pl.acl {
				if e.ID == 0 {
					newEntries++
				}
			}
		}
		for _, g := range pl.add {
			adds = append(adds, memberRow{g, pl.id})
		}
		for _, g := range pl.remove {
			removes = append(removes, memberRow{g, pl.id})
		}
	}
	if len(emailUsers) > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM user_emails WHERE user_id = ANY($1::bigint[])`,
			pq.Array(emailUsers)); err != nil {
			return errors.Database(err)
		}
		if err := s.db.ExecRecords(ctx, tx, `INSERT INTO user_emails (user_id, position, email, use_for_login,
			use_for_email, needs_confirmation)
			SELECT r.user_id, r.position, r.email, r.use_for_login, r.use_for_email, r.needs_confirmation
			FROM jsonb_to_recordset($1) AS r(user_id bigint, position int, email text, use_for_login boolean,
				use_for_email boolean, needs_confirmation boolean)`, emails, userUnique); err != nil {
			return err
		}
	}
	if len(aclUsers) > 0 {
		ids, err := db.NextIDs(ctx, tx, "user_acl", newEntries)
		if err != nil {
			return err
		}
		var entries []aclRowIn
		for _, pl := range plans {
			if !pl.aclChanged {
				continue
			}
			for pos, e := range pl.acl {
				if e.ID == 0 {
					e.ID, ids = ids[0], ids[1:]
				}
				row := aclRowIn{ID: e.ID, UserID: pl.id, Position: pos, WhoUser: nonZero(e.WhoUserID),
					WhoGroup: nonZero(e.WhoGroupID), WhoOwner: e.WhoOwner, Rights: e.Rights, Mask: e.Mask,
					Active: e.Active, From: e.From, To: e.To}
				if !e.Created.IsZero() {
					row.Created = &e.Created
				}
				entries = append(entries, row)
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM user_acl WHERE user_id = ANY($1::bigint[])`,
			pq.Array(aclUsers)); err != nil {
			return errors.Database(err)
		}
		if err := s.db.ExecRecords(ctx, tx, `INSERT INTO user_acl (id, user_id, position, who_user_id, who_group_id,
			who_owner, rights, mask, active, valid_from, valid_to, created_at)
			SELECT r.id, r.user_id, r.position, r.who_user_id, r.who_group_id, r.who_owner, r.rights, r.mask, r.active,
				r.valid_from, r.valid_to, COALESCE(r.created_at, $2)
			FROM jsonb_to_recordset($1) AS r(id bigint, user_id bigint, position int, who_user_id bigint,
				who_group_id bigint, who_owner boolean, rights jsonb, mask int, active boolean, valid_from timestamptz,
				valid_to timestamptz, created_at timestamptz)`, entries, userUnique, now); err != nil {
			return err
		}
	}
	if len(removes) > 0 {
		if err := s.db.ExecRecords(ctx, tx, `DELETE FROM memberships m USING jsonb_to_recordset($1) AS r(group_id bigint, user_id bigint)
			WHERE m.group_id = r.group_id AND m.user_id = r.user_id`, removes, userUnique); err != nil {
			return err
		}
	}
	if len(adds) > 0 {
		if err := s.db.ExecRecords(ctx, tx, `INSERT INTO memberships (group_id, user_id, created_at)
			SELECT r.group_id, r.user_id, $2 FROM jsonb_to_recordset($1) AS r(group_id bigint, user_id bigint)
			ORDER BY r.group_id, r.user_id ON CONFLICT DO NOTHING`, adds, userUnique, now); err != nil {
			return err
		}
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
		rows[i] = userRow{ID: pl.id, Version: pl.version, Type: pl.typ, Login: t["login"], FirstName: t["first_name"],
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

// Delete deletes user id with its memberships, addresses, ACL entries
// naming it and sessions, in one transaction that also tells every process.
func (s *Store) Delete(ctx context.Context, p *policy.Principal, id int64) error {
	now := s.db.Now()
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := lockForDecision(ctx, tx, []int64{id}, lockDelete, nil); err != nil {
			return err
		}
		us, err := findUsers(ctx, tx, p, now, []int64{id}, true)
		if err != nil {
			return err
		}
		if len(us) == 0 {
			return errors.UserNotFound(strconv.FormatInt(id, 10))
		}
		u := us[0]
		if u.IsSystem() {
			return errors.DeleteSystemUser(id)
		}
		if ok, err := s.authz.Can(p, rights.Delete, u.PolicyObject()); err != nil {
			return errors.ServerGeneric(err)
		} else if !ok {
			return errors.InsufficientRights("delete", "user", strconv.FormatInt(id, 10), rights.Delete)
		}
		if u.HoldsRoot && !s.authz.HasSystemRight(p, rights.SystemRoot, "") {
			return errors.NoSystemRight(rights.SystemRoot)
		}
		var owned int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM groups WHERE owner_user_id = $1`, id).Scan(&owned); err != nil {
			return errors.Database(err)
		}
		if owned > 0 {
			// Deleting the owner would leave those groups without one.
			return errors.IntegrityConstraintViolation("group._owner")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = $1`, id); err != nil {
			return errors.Database(err)
		}
		events := append([]audit.Event{{ActorUserID: p.UserID, ObjectType: "user", ObjectID: id,
			Action: "delete", Before: mustJSON(u)}}, membershipEvents(p.UserID, id, nil, u.GroupIDs())...)
		if err := audit.Record(ctx, tx, events); err != nil {
			return err
		}
		if s.notify != nil {
			if err := s.notify.NotifyUsers(ctx, tx, id); err != nil {
				return err
			}
			return s.notify.NotifySessions(ctx, tx, id)
		}
		return nil
	})
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
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
	return string(mustJSON(x)) == string(mustJSON(y))
}
