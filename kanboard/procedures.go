package kanboard

import (
	"encoding/json"
	"log/slog"
	"strconv"

	"github.com/groupd/groupd/audit"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/group"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
	"github.com/groupd/groupd/user"
)

// procedure is one JSON-RPC method: its PHP signature, its access class,
// and its translation into core calls.
type procedure struct {
	params []param
	// write: refused (403) to a read-only API token, as the easydb API
	// refuses its writes.
	write bool
	// userOnly: refused (403) to the application credentials, as
	// Kanboard's ProcedureAuthorization refuses its "Me" procedures.
	userOnly bool
	run      func(c *call, args []any) (any, error)
}

func req(name string) param          { return param{name: name, required: true} }
func opt(name string, def any) param { return param{name: name, def: def} }

// procedures are the methods of the endpoint, by name (case-sensitive, as
// PHP's method_exists is not: see docs/kanboard.md).
var procedures = map[string]procedure{
	"getVersion": {run: getVersion},
	"getMe":      {userOnly: true, run: getMe},

	"createGroup":  {params: []param{req("name"), opt("external_id", "")}, write: true, run: createGroup},
	"updateGroup":  {params: []param{req("group_id"), opt("name", nil), opt("external_id", nil)}, write: true, run: updateGroup},
	"removeGroup":  {params: []param{req("group_id")}, write: true, run: removeGroup},
	"getGroup":     {params: []param{req("group_id")}, run: getGroup},
	"getAllGroups": {run: getAllGroups},

	"getMemberGroups":   {params: []param{req("user_id")}, run: getMemberGroups},
	"getGroupMembers":   {params: []param{req("group_id")}, run: getGroupMembers},
	"addGroupMember":    {params: []param{req("group_id"), req("user_id")}, write: true, run: addGroupMember},
	"removeGroupMember": {params: []param{req("group_id"), req("user_id")}, write: true, run: removeGroupMember},
	"isGroupMember":     {params: []param{req("group_id"), req("user_id")}, run: isGroupMember},

	"createUser": {params: []param{req("username"), req("password"), opt("name", ""), opt("email", ""),
		opt("role", RoleUser)}, write: true, run: createUser},
	"getUser":       {params: []param{req("user_id")}, run: getUser},
	"getUserByName": {params: []param{req("username")}, run: getUserByName},
	"getAllUsers":   {run: getAllUsers},
	"updateUser": {params: []param{req("id"), opt("username", nil), opt("name", nil), opt("email", nil),
		opt("role", nil)}, write: true, run: updateUser},
	"removeUser":   {params: []param{req("user_id")}, write: true, run: removeUser},
	"enableUser":   {params: []param{req("user_id")}, write: true, run: enableUser},
	"disableUser":  {params: []param{req("user_id")}, write: true, run: disableUser},
	"isActiveUser": {params: []param{req("user_id")}, run: isActiveUser},
}

// --- arguments --------------------------------------------------------------

// asID reads an id argument as Kanboard's SQL compares it with an integer
// column: a positive integer, or a string of its digits ("5"). Anything
// else names no row.
func asID(v any) (int64, bool) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = string(x)
	case string:
		s = x
	default:
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, false
	}
	return id, true
}

// asText reads a text argument: a string, or a number as written (PHP
// casts it). null, booleans, arrays and objects are not text.
func asText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return string(x), true
	}
	return "", false
}

// badArgument is the cause logged for an argument that is not what the
// procedure takes.
func badArgument(name, want string) error {
	return errors.InvalidValue(name, want+" expected")
}

// --- outcomes ---------------------------------------------------------------

// forbidden reports whether err is the core refusing a right: what
// Kanboard answers with HTTP 403.
func forbidden(err error) bool {
	switch errors.CodeOf(err) {
	case "error.user.insufficient_rights", "error.user.no_system_right":
		return true
	}
	return false
}

// refused turns a core error into Kanboard's answer: a missing right ends
// the exchange with 403, a server failure is an Internal error, anything
// else is the procedure's failure value (false, null), with the cause in
// the log.
func (c *call) refused(err error, answer any) (any, error) {
	if forbidden(err) {
		c.log().Info("kanboard: forbidden", slog.String("procedure", c.method), slog.Any("cause", err))
		return nil, errForbidden
	}
	if errors.From(err).Realm == errors.RealmServer {
		return nil, err
	}
	c.log().Info("kanboard: refused", slog.String("procedure", c.method), slog.Any("cause", err))
	return answer, nil
}

// hidden answers a refused change with success, as Kanboard does where it
// checks nothing (updateGroup of an unknown group answers true): the real
// cause goes to the log and, as an event "refused" of the object, to the
// audit trail. Only a caller who may read that kind of object (the system
// right system.group or system.user, Kanboard's app-admin) gets that
// answer; any other is refused with 403 before anything is written, as
// Kanboard refuses a user without the role, so that no caller can fill the
// audit trail with refusals of changes it could never make.
func (c *call) hidden(objectType string, id int64, cause error) (any, error) {
	var gate reader = c.x.s.groups
	if objectType == "user" {
		gate = c.x.s.users
	}
	if err := gate.RequireReader(c.x.principal); err != nil {
		return c.refused(err, false)
	}
	c.log().Warn("kanboard: refused, answered true as Kanboard does", slog.String("procedure", c.method),
		slog.Int64("id", id), slog.Any("cause", cause))
	e := errors.From(cause)
	after, err := json.Marshal(map[string]any{"kanboard_procedure": c.method, "answered": true,
		"error": map[string]any{"code": e.Code, "parameters": e.Parameters}})
	if err != nil {
		return nil, errors.ServerGeneric(err)
	}
	if err := c.x.s.events.RecordAlone(c.x.r.Context(), audit.Event{ActorUserID: c.x.principal.UserID,
		ObjectType: objectType, ObjectID: id, Action: audit.ActionRefused, After: after}); err != nil {
		return nil, err
	}
	return true, nil
}

// reader is a core store's gate of reads (group.Store, user.Store).
type reader interface {
	RequireReader(p *policy.Principal) error
}

// requireReader is the gate an /api/v1 reading handler puts before the
// same store call (system.group to read groups, system.user to read other
// users): the store's read decision (RequireReader) decides.
func (c *call) requireReader(r reader) error {
	if err := r.RequireReader(c.x.principal); err != nil {
		return c.forbid(err)
	}
	return nil
}

func (c *call) forbid(cause error) error {
	c.log().Info("kanboard: forbidden", slog.String("procedure", c.method), slog.Any("cause", cause))
	return errForbidden
}

// maxVersionRetries bounds the retries of an update that lost a race: the
// easydb body needs the group's or user's next _version, read just before.
const maxVersionRetries = 3

func versionMismatch(err error) bool { return errors.CodeOf(err) == "error.user.version_mismatch" }

// --- app --------------------------------------------------------------------

func getVersion(c *call, _ []any) (any, error) { return c.x.s.version, nil }

func getMe(c *call, _ []any) (any, error) {
	u, err := c.readUser(c.x.principal.UserID)
	if err != nil || u == nil {
		return nil, err
	}
	return newUserRow(u), nil
}

// --- groups -----------------------------------------------------------------

// computed reports whether id is a system group (:all, :non_system), whose
// membership groupd computes. Kanboard has no such groups; the surface
// shows none of them (docs/kanboard.md).
func computed(id int64) bool { return id == policy.GroupAll || id == policy.GroupNonSystem }

func createGroup(c *call, a []any) (any, error) {
	name, ok := asText(a[0])
	if !ok {
		return c.refused(badArgument("name", "text"), false)
	}
	g := map[string]any{"name": name}
	if a[1] != nil {
		ext, ok := asText(a[1])
		if !ok {
			return c.refused(badArgument("external_id", "text"), false)
		}
		if ext != "" {
			g["reference"] = ext
		}
	}
	items, err := group.DecodeBody([]any{map[string]any{"group": g}}, true)
	if err != nil {
		return c.refused(err, false)
	}
	out, err := c.x.s.groups.Write(c.x.r.Context(), c.x.principal, items)
	if err != nil {
		return c.refused(err, false)
	}
	return out[0].ID, nil
}

func updateGroup(c *call, a []any) (any, error) {
	if a[1] == nil && a[2] == nil {
		// Kanboard runs "UPDATE groups SET WHERE ...", and answers the SQL
		// error: code 0.
		return nil, &rpcError{Code: 0, Message: "SQL Error: nothing to update (name and external_id are both null)"}
	}
	id, ok := asID(a[0])
	if !ok {
		return c.hidden("group", 0, badArgument("group_id", "group id"))
	}
	g := map[string]any{"_id": json.Number(strconv.FormatInt(id, 10))}
	if a[1] != nil {
		name, ok := asText(a[1])
		if !ok {
			return c.refused(badArgument("name", "text"), false)
		}
		g["name"] = name
	}
	if a[2] != nil {
		ext, ok := asText(a[2])
		if !ok {
			return c.refused(badArgument("external_id", "text"), false)
		}
		g["reference"] = nil // '' is no reference
		if ext != "" {
			g["reference"] = ext
		}
	}
	ctx := c.x.r.Context()
	for attempt := 1; ; attempt++ {
		cur, err := c.x.s.groups.Get(ctx, c.x.principal, id)
		if err != nil {
			return nil, err
		}
		if cur == nil || cur.IsSystem() {
			return c.hidden("group", id, errors.GroupNotFound(strconv.FormatInt(id, 10)))
		}
		g["_version"] = json.Number(strconv.FormatInt(cur.Version+1, 10))
		items, err := group.DecodeBody([]any{map[string]any{"group": g}}, false)
		if err != nil {
			return c.refused(err, false)
		}
		_, err = c.x.s.groups.Write(ctx, c.x.principal, items)
		if err != nil && versionMismatch(err) && attempt < maxVersionRetries {
			continue
		}
		if err != nil {
			return c.refused(err, false)
		}
		return true, nil
	}
}

func removeGroup(c *call, a []any) (any, error) {
	id, ok := asID(a[0])
	if !ok {
		return c.refused(badArgument("group_id", "group id"), false)
	}
	if err := c.x.s.groups.Delete(c.x.r.Context(), c.x.principal, id); err != nil {
		return c.refused(err, false)
	}
	return true, nil
}

// groupRow is a group as getGroup and getMemberGroups answer it.
type groupRow struct {
	ID         int64  `json:"id"`
	ExternalID string `json:"external_id"`
	Name       string `json:"name"`
}

// groupListRow is a group as getAllGroups answers it.
type groupListRow struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	ExternalID string `json:"external_id"`
	NbUsers    int    `json:"nb_users"`
}

func nameOf(g *group.Group) string {
	if g.Name != nil {
		return *g.Name
	}
	return ""
}

func externalID(g *group.Group) string {
	if g.Reference != nil {
		return *g.Reference
	}
	return ""
}

func getGroup(c *call, a []any) (any, error) {
	if err := c.requireReader(c.x.s.groups); err != nil {
		return nil, err
	}
	id, ok := asID(a[0])
	if !ok {
		return c.refused(badArgument("group_id", "group id"), nil)
	}
	// Readable decides as GET /api/v1/group/<id>; Kanboard answers null
	// for a system group (never listed) before any refusal of it, and for
	// an unknown one.
	g, err := c.x.s.groups.Readable(c.x.r.Context(), c.x.principal, id)
	switch {
	case g != nil && g.IsSystem(), errors.Is(err, errors.GroupNotFound("")):
		return nil, nil
	case forbidden(err):
		return nil, c.forbid(err)
	case err != nil:
		return nil, err
	}
	return groupRow{ID: g.ID, ExternalID: externalID(g), Name: nameOf(g)}, nil
}

// allGroups is every group p may read that f matches, but the computed
// ones, ordered by name as Kanboard orders them (byte order), then by id.
func (c *call) allGroups(f group.Filter) ([]*group.Group, error) {
	f.Limit, f.Offset = group.MaxLimit, 0
	var out []*group.Group
	for {
		page, total, err := c.x.s.groups.List(c.x.r.Context(), c.x.principal, f)
		if err != nil {
			return nil, err
		}
		for _, g := range page {
			if !g.IsSystem() {
				out = append(out, g)
			}
		}
		f.Offset += len(page)
		if len(page) == 0 || f.Offset >= total {
			break
		}
	}
	sortBy(out, nameOf, func(g *group.Group) int64 { return g.ID })
	return out, nil
}

func getAllGroups(c *call, _ []any) (any, error) {
	if err := c.requireReader(c.x.s.groups); err != nil {
		return nil, err
	}
	groups, err := c.allGroups(group.Filter{})
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(groups))
	for i, g := range groups {
		ids[i] = g.ID
	}
	counts, err := c.x.s.users.MemberCounts(c.x.r.Context(), c.x.principal, ids)
	if err != nil {
		return nil, err
	}
	out := make([]groupListRow, len(groups))
	for i, g := range groups {
		out[i] = groupListRow{ID: g.ID, Name: nameOf(g), ExternalID: externalID(g), NbUsers: counts[g.ID]}
	}
	return out, nil
}

func getMemberGroups(c *call, a []any) (any, error) {
	if err := c.requireReader(c.x.s.groups); err != nil {
		return nil, err
	}
	out := []groupRow{}
	id, ok := asID(a[0])
	if !ok {
		return c.refused(badArgument("user_id", "user id"), out)
	}
	groups, err := c.allGroups(group.Filter{Member: id})
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		out = append(out, groupRow{ID: g.ID, ExternalID: externalID(g), Name: nameOf(g)})
	}
	return out, nil
}

// --- members ----------------------------------------------------------------

func getGroupMembers(c *call, a []any) (any, error) {
	if err := c.requireReader(c.x.s.users); err != nil {
		return nil, err
	}
	out := []memberRow{}
	id, ok := asID(a[0])
	if !ok || computed(id) {
		return c.refused(badArgument("group_id", "id of a group with stored members"), out)
	}
	users, err := c.allUsers(user.Filter{GroupIDs: []int64{id}})
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		out = append(out, memberRow{userRow: newUserRow(u), GroupID: id, UserID: u.ID})
	}
	return out, nil
}

// memberIDs reads the group and user ids of a membership procedure.
func memberIDs(a []any) (groupID, userID int64, err error) {
	groupID, ok := asID(a[0])
	if !ok {
		return 0, 0, badArgument("group_id", "group id")
	}
	userID, ok = asID(a[1])
	if !ok {
		return 0, 0, badArgument("user_id", "user id")
	}
	return groupID, userID, nil
}

func addGroupMember(c *call, a []any) (any, error) {
	return changeMember(c, a, func(id int64) user.MemberChange { return user.MemberChange{Add: []int64{id}} },
		user.ResultAdded)
}

func removeGroupMember(c *call, a []any) (any, error) {
	return changeMember(c, a, func(id int64) user.MemberChange { return user.MemberChange{Remove: []int64{id}} },
		user.ResultRemoved)
}

// changeMember adds or removes one member through the members API's own
// store call: true when it changed the membership, false when there was
// nothing to change (already a member, not a member, no such user or
// group).
func changeMember(c *call, a []any, change func(userID int64) user.MemberChange, done string) (any, error) {
	groupID, userID, err := memberIDs(a)
	if err != nil {
		return c.refused(err, false)
	}
	results, err := c.x.s.users.ChangeMembers(c.x.r.Context(), c.x.principal, groupID, change(userID))
	if err != nil {
		return c.refused(err, false)
	}
	if len(results) != 1 || results[0].Result != done {
		result := ""
		if len(results) == 1 {
			result = results[0].Result
		}
		c.log().Info("kanboard: nothing to change", slog.String("procedure", c.method), slog.String("result", result))
		return false, nil
	}
	return true, nil
}

func isGroupMember(c *call, a []any) (any, error) {
	groupID, userID, err := memberIDs(a)
	if err == nil && computed(groupID) {
		err = badArgument("group_id", "id of a group with stored members")
	}
	if err != nil {
		return c.refused(err, false)
	}
	member, err := c.x.s.users.IsMember(c.x.r.Context(), c.x.principal, groupID, userID)
	if err != nil {
		return c.refused(err, false)
	}
	return member, nil
}

// --- users ------------------------------------------------------------------

// userRow is a user as Kanboard's user procedures answer it: the public
// columns of its users table, never a password hash, a two-factor secret
// or a token. Columns groupd has no value for carry Kanboard's defaults.
type userRow struct {
	ID                   int64  `json:"id"`
	Username             string `json:"username"`
	Name                 string `json:"name"`
	Email                string `json:"email"`
	Role                 string `json:"role"`
	IsActive             int    `json:"is_active"`
	IsLDAPUser           int    `json:"is_ldap_user"`
	NotificationsEnabled int    `json:"notifications_enabled"`
	Timezone             string `json:"timezone"`
	Language             string `json:"language"`
	DisableLoginForm     int    `json:"disable_login_form"`
	TwofactorActivated   int    `json:"twofactor_activated"`
	NotificationsFilter  int    `json:"notifications_filter"`
	NbFailedLogin        int    `json:"nb_failed_login"`
	LockExpirationDate   int    `json:"lock_expiration_date"`
	AvatarPath           string `json:"avatar_path"`
}

// memberRow is a member as getGroupMembers answers it: the user's row
// with the membership's ids.
type memberRow struct {
	userRow
	GroupID int64 `json:"group_id"`
	UserID  int64 `json:"user_id"`
}

// notificationsFilterNone is Kanboard's default notifications_filter
// (NOTIFICATIONS_FILTER_NONE).
const notificationsFilterNone = 4

func newUserRow(u *user.User) userRow {
	row := userRow{ID: u.ID, Role: roleOf(u.SystemRights), IsActive: 1, NotificationsFilter: notificationsFilterNone}
	if u.LoginDisabled {
		row.IsActive = 0
	}
	if u.Login != nil {
		row.Username = *u.Login
	}
	row.Name = fullName(u)
	row.Email = emailOf(u)
	if u.FrontendLanguage != nil {
		row.Language = *u.FrontendLanguage
	}
	return row
}

// fullName is Kanboard's name: the display name, else first and last
// name; "" when there is none (never the login).
func fullName(u *user.User) string {
	if u.Displayname != nil && *u.Displayname != "" {
		return *u.Displayname
	}
	return user.GeneratedDisplayname(nil, u.FirstName, u.LastName, nil)
}

// emailOf is Kanboard's one email: the first address used for e-mail,
// else the first address.
func emailOf(u *user.User) string {
	for _, e := range u.Emails {
		if e.UseForEmail {
			return e.Email
		}
	}
	if len(u.Emails) > 0 {
		return u.Emails[0].Email
	}
	return ""
}

// readUser is user id as GET /api/v1/user/<id> reads it (the store's
// Readable decides): nil when there is no such user.
func (c *call) readUser(id int64) (*user.User, error) {
	u, err := c.x.s.users.Readable(c.x.r.Context(), c.x.principal, id)
	switch {
	case errors.Is(err, errors.UserNotFound("")):
		return nil, nil
	case forbidden(err):
		return nil, c.forbid(err)
	case err != nil:
		return nil, err
	}
	return u, nil
}

// allUsers is every user p may read that f matches, ordered by login
// (Kanboard orders by username), then id.
func (c *call) allUsers(f user.Filter) ([]*user.User, error) {
	f.Limit, f.Offset = user.MaxLimit, 0
	var out []*user.User
	for {
		page, total, err := c.x.s.users.List(c.x.r.Context(), c.x.principal, f)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		f.Offset += len(page)
		if len(page) == 0 || f.Offset >= total {
			break
		}
	}
	sortBy(out, func(u *user.User) string {
		if u.Login != nil {
			return *u.Login
		}
		return ""
	}, func(u *user.User) int64 { return u.ID })
	return out, nil
}

func getUser(c *call, a []any) (any, error) {
	id, ok := asID(a[0])
	if !ok {
		return c.refused(badArgument("user_id", "user id"), nil)
	}
	u, err := c.readUser(id)
	if err != nil || u == nil {
		return nil, err
	}
	return newUserRow(u), nil
}

func getUserByName(c *call, a []any) (any, error) {
	login, ok := asText(a[0])
	if !ok {
		return c.refused(badArgument("username", "text"), nil)
	}
	id, err := c.x.s.users.IDByLogin(c.x.r.Context(), login)
	if err != nil || id == 0 {
		return nil, err
	}
	u, err := c.readUser(id)
	if err != nil || u == nil {
		return nil, err
	}
	return newUserRow(u), nil
}

func getAllUsers(c *call, _ []any) (any, error) {
	if err := c.requireReader(c.x.s.users); err != nil {
		return nil, err
	}
	users, err := c.allUsers(user.Filter{})
	if err != nil {
		return nil, err
	}
	out := make([]userRow, len(users))
	for i, u := range users {
		out[i] = newUserRow(u)
	}
	return out, nil
}

// systemRightsBody is m as an easydb body carries _system_rights.
func systemRightsBody(m rights.Map) map[string]any {
	out := make(map[string]any, len(m))
	for name, params := range m {
		out[name] = map[string]any(params)
	}
	return out
}

func emailsBody(email string) []any {
	if email == "" {
		return []any{}
	}
	return []any{map[string]any{"email": email, "use_for_email": true}}
}

func createUser(c *call, a []any) (any, error) {
	var text [5]string
	for i, name := range []string{"username", "password", "name", "email", "role"} {
		s, ok := asText(a[i])
		if !ok {
			return c.refused(badArgument(name, "text"), false)
		}
		text[i] = s
	}
	login, password, name, email, role := text[0], text[1], text[2], text[3], text[4]
	roleMap, ok := roleRights[role]
	if !ok {
		return c.refused(badArgument("role", "app-admin, app-manager or app-user"), false)
	}
	u := map[string]any{"login": login}
	if name != "" {
		u["displayname"] = name
	}
	item := map[string]any{"user": u, "_password": password}
	if email != "" {
		item["_emails"] = emailsBody(email)
	}
	if len(roleMap) > 0 {
		item["_system_rights"] = systemRightsBody(roleMap)
	}
	items, err := user.DecodeBody([]any{item}, true)
	if err != nil {
		return c.refused(err, false)
	}
	out, err := c.x.s.users.Write(c.x.r.Context(), c.x.principal, 0, items)
	if err != nil {
		return c.refused(err, false)
	}
	return out[0].ID, nil
}

// writeUser applies change to user id's easydb body (its _id and next
// _version are set) and writes it, retrying a lost race: true when written,
// Kanboard's true for an unknown user (recorded as refused), else the
// refusal.
func (c *call) writeUser(id int64, change func(cur *user.User, item, u map[string]any) error) (any, error) {
	ctx := c.x.r.Context()
	for attempt := 1; ; attempt++ {
		cur, err := c.x.s.users.Get(ctx, c.x.principal, id)
		if err != nil {
			return nil, err
		}
		if cur == nil {
			return c.hidden("user", id, errors.UserNotFound(strconv.FormatInt(id, 10)))
		}
		u := map[string]any{"_id": json.Number(strconv.FormatInt(id, 10)),
			"_version": json.Number(strconv.FormatInt(cur.Version+1, 10))}
		item := map[string]any{"user": u}
		if changeErr := change(cur, item, u); changeErr != nil {
			return c.refused(changeErr, false)
		}
		items, err := user.DecodeBody([]any{item}, false)
		if err != nil {
			return c.refused(err, false)
		}
		_, err = c.x.s.users.Write(ctx, c.x.principal, 0, items)
		if err != nil && versionMismatch(err) && attempt < maxVersionRetries {
			continue
		}
		if err != nil {
			return c.refused(err, false)
		}
		return true, nil
	}
}

func updateUser(c *call, a []any) (any, error) {
	id, ok := asID(a[0])
	if !ok {
		return c.refused(badArgument("id", "user id"), false)
	}
	var text [5]*string
	for i, name := range []string{"", "username", "name", "email", "role"} {
		if i == 0 || a[i] == nil {
			continue
		}
		s, ok := asText(a[i])
		if !ok {
			return c.refused(badArgument(name, "text"), false)
		}
		text[i] = &s
	}
	if text[4] != nil {
		if _, ok := roleRights[*text[4]]; !ok {
			return c.refused(badArgument("role", "app-admin, app-manager or app-user"), false)
		}
	}
	return c.writeUser(id, func(cur *user.User, item, u map[string]any) error {
		if text[1] != nil {
			u["login"] = *text[1]
		}
		if text[2] != nil {
			u["displayname"] = *text[2]
		}
		if text[3] != nil {
			item["_emails"] = emailsBody(*text[3])
		}
		if text[4] != nil {
			item["_system_rights"] = systemRightsBody(withRole(cur.SystemRights, *text[4]))
		}
		return nil
	})
}

func removeUser(c *call, a []any) (any, error) {
	id, ok := asID(a[0])
	if !ok {
		return c.refused(badArgument("user_id", "user id"), false)
	}
	if err := c.x.s.users.Delete(c.x.r.Context(), c.x.principal, id); err != nil {
		return c.refused(err, false)
	}
	return true, nil
}

func enableUser(c *call, a []any) (any, error)  { return setActive(c, a, true) }
func disableUser(c *call, a []any) (any, error) { return setActive(c, a, false) }

// setActive is login_disabled, written as the user API writes it.
func setActive(c *call, a []any, active bool) (any, error) {
	id, ok := asID(a[0])
	if !ok {
		return c.refused(badArgument("user_id", "user id"), false)
	}
	return c.writeUser(id, func(_ *user.User, _, u map[string]any) error {
		u["login_disabled"] = !active
		return nil
	})
}

func isActiveUser(c *call, a []any) (any, error) {
	id, ok := asID(a[0])
	if !ok {
		return c.refused(badArgument("user_id", "user id"), false)
	}
	u, err := c.readUser(id)
	if err != nil {
		return nil, err
	}
	return u != nil && !u.LoginDisabled, nil
}
