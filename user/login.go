package user

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"sort"
	"strconv"

	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/input"
	"github.com/groupd/groupd/passwords"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
	"github.com/lib/pq"
)

// Logins answers package session's questions about users: who a login
// names, with which password, and what principal a user id resolves to.
// Session owns sessions and login failures but reads no users table itself;
// the wiring hands it a Logins (session.Users), so that session does not
// import user nor user session. Each method runs on q: the caller's
// transaction when the read belongs to it (a login reads the credentials in
// the transaction that counts its failure), else the database.
type Logins struct{}

// Credentials is the user whose login is login, or else who has login as an
// e-mail address marked use_for_login (case-insensitive); nil if none.
func (Logins) Credentials(ctx context.Context, q db.Querier, login string) (*passwords.Credentials, error) {
	if !input.Storable(login) {
		return nil, nil // no login or e-mail address holds NUL or invalid UTF-8
	}
	var c passwords.Credentials
	err := q.QueryRowContext(ctx, `SELECT id, COALESCE(password_hash, ''), login_disabled FROM (
			SELECT u.id, u.password_hash, u.login_disabled, 0 AS rank FROM users u WHERE u.login = $1
			UNION ALL
			SELECT u.id, u.password_hash, u.login_disabled, 1 FROM user_emails e JOIN users u ON u.id = e.user_id
			WHERE e.use_for_login AND lower(e.email) = lower($1)
		) c ORDER BY rank LIMIT 1`, login).Scan(&c.UserID, &c.Hash, &c.LoginDisabled)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, errors.Database(err)
	}
	return &c, nil
}

// CredentialsByID are the credentials of user id; nil if it is gone.
func (Logins) CredentialsByID(ctx context.Context, q db.Querier, id int64) (*passwords.Credentials, error) {
	c := passwords.Credentials{UserID: id}
	err := q.QueryRowContext(ctx, `SELECT COALESCE(password_hash, ''), login_disabled FROM users WHERE id = $1`, id).
		Scan(&c.Hash, &c.LoginDisabled)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, errors.Database(err)
	}
	return &c, nil
}

// LoginName is what user id logs in with: its login, else its first e-mail
// address marked use_for_login ("" when it has neither or is gone).
func (Logins) LoginName(ctx context.Context, q db.Querier, id int64) (string, error) {
	var login string
	err := q.QueryRowContext(ctx, `SELECT COALESCE(u.login, (SELECT e.email FROM user_emails e
			WHERE e.user_id = u.id AND e.use_for_login ORDER BY e.position LIMIT 1), '')
		FROM users u WHERE u.id = $1`, id).Scan(&login)
	if err != nil && err != sql.ErrNoRows {
		return "", errors.Database(err)
	}
	return login, nil
}

// computedGroups are every group id that policy.SystemGroupsFor can return;
// the query loads their system rights, the user's type then decides which
// apply.
var computedGroups = func() []int64 {
	ids := append(policy.SystemGroupsFor("system"), policy.SystemGroupsFor("easydb")...)
	slices.Sort(ids)
	return slices.Compact(ids)
}()

// Principal resolves a user into its principal, with the user attributes a
// session needs besides (login_disabled, frontend_language); p is nil when
// the user does not exist. It is one query on purpose, joining the user's memberships and the
// system rights of its groups: it runs on every principal-cache miss, on
// the path of every request.
func (Logins) Principal(ctx context.Context, q db.Querier, userID int64) (p *policy.Principal, loginDisabled bool, language string, err error) {
	var (
		typ, login  string
		userRights  []byte
		static      pq.Int64Array
		groupRights []byte
	)
	err = q.QueryRowContext(ctx, `SELECT u.type, COALESCE(u.login, ''), COALESCE(u.frontend_language, ''),
			u.login_disabled, u.system_rights, m.ids,
			COALESCE((SELECT jsonb_object_agg(g.id, g.system_rights) FROM groups g
				WHERE g.id = ANY(m.ids || $2::bigint[]) AND g.system_rights <> '{}'), '{}')
		FROM users u
		CROSS JOIN LATERAL (SELECT COALESCE(array_agg(group_id ORDER BY group_id), '{}') AS ids
			FROM memberships WHERE user_id = u.id) m
		WHERE u.id = $1`, userID, pq.Array(computedGroups)).
		Scan(&typ, &login, &language, &loginDisabled, &userRights, &static, &groupRights)
	if err == sql.ErrNoRows {
		return nil, false, "", nil
	}
	if err != nil {
		return nil, false, "", errors.Database(err)
	}
	p = &policy.Principal{
		UserID:       userID,
		Login:        login,
		UserType:     typ,
		Groups:       []int64(static),
		SystemGroups: policy.SystemGroupsFor(typ),
	}
	if p.Groups == nil {
		p.Groups = []int64{}
	}
	own, err := rights.DecodeStored(userRights)
	if err != nil {
		return nil, false, "", errors.Database(errors.Errorf("user %d system_rights: %w", userID, err))
	}
	var byGroup map[string]json.RawMessage
	if err := json.Unmarshal(groupRights, &byGroup); err != nil {
		return nil, false, "", errors.Database(errors.Errorf("group system_rights: %w", err))
	}
	// Union in a fixed order (user first, then groups by id), so that a
	// non-boolean parameter set differently in two places always resolves
	// to the same value.
	ids := make([]int64, 0, len(byGroup))
	for k := range byGroup {
		id, err := strconv.ParseInt(k, 10, 64)
		if err != nil {
			return nil, false, "", errors.Database(errors.Errorf("group id %q: %w", k, err))
		}
		if p.InGroup(id) {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	all := []rights.Map{own}
	for _, id := range ids {
		m, err := rights.DecodeStored(byGroup[strconv.FormatInt(id, 10)])
		if err != nil {
			return nil, false, "", errors.Database(errors.Errorf("group %d system_rights: %w", id, err))
		}
		all = append(all, m)
	}
	p.SystemRights = rights.Union(all...)
	p.RememberDecisions()
	return p, loginDisabled, language, nil
}

// SessionView is what a session body shows of user userID and of the
// groups groupIDs (short formats), read fresh so that renames show at
// once; ok is false when the user is gone. The groups' names are read in
// the same query: one round trip per session body.
func (Logins) SessionView(ctx context.Context, q db.Querier, userID int64, groupIDs []int64) (user, groups json.RawMessage, ok bool, err error) {
	err = q.QueryRowContext(ctx, `SELECT json_build_object('_basetype', 'user', 'user', json_build_object(
			'_id', u.id, '_version', u.version, 'login', u.login, 'type', u.type,
			'_generated_displayname', COALESCE(NULLIF(u.displayname, ''),
				NULLIF(trim(concat_ws(' ', u.first_name, u.last_name)), ''), u.login, ''))),
		COALESCE((SELECT json_agg(json_build_object('_basetype', 'group', 'group', json_build_object(
				'_id', g.id, 'name', g.name, 'type', g.type, '_displayname', g.displayname)) ORDER BY g.id)
			FROM groups g WHERE g.id = ANY($2::bigint[])), '[]')
		FROM users u WHERE u.id = $1`, userID, pq.Array(groupIDs)).Scan(&user, &groups)
	if err == sql.ErrNoRows {
		return nil, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, errors.Database(err)
	}
	return user, groups, true, nil
}
