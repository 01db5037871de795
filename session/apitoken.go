package session

// Personal API tokens: a credential for jobs and integrations that is not a
// password and does not expire when idle. A token acts as its user, narrowed
// by its scope (read-only, and/or at most a given set of the user's system
// rights), wherever a session token works. Only the SHA-256 of its secret is
// stored; the secret is shown once, in the answer that creates it.
//
// Invariants:
//   - A token row is cached per process by the hash of its secret, like a
//     session; revoking it (deleting the row) announces the hash on Channel
//     (kind "t"), deleting its user announces the user's sessions (kind "s"),
//     and both drop the row everywhere. Disabling the user drops its
//     principal (kind "u"), which is checked on every use. Expiry is checked
//     against the clock on every use, cached or not.
//   - last_used_at and last_used_address are written at most once per
//     TouchInterval per token and process: a cached row younger than that is
//     served without a write.

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"maps"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/groupd/groupd/audit"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/input"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
)

// APITokenPrefix starts every API token's secret, so that secret scanners
// recognise one (and groupd tells it from a session token without a query).
const APITokenPrefix = "gdp_"

const apiTokenLen = len(APITokenPrefix) + tokenLen

// Limits of API tokens.
const (
	// MaxAPITokenName is the longest name of a token, in characters.
	MaxAPITokenName = 200
	// MaxAPITokensPerUser is how many tokens one user may hold at once.
	MaxAPITokensPerUser = 100
)

// APIToken is a token as listed: never its secret.
type APIToken struct {
	ID              int64
	UserID          int64
	Name            string
	ReadOnly        bool
	SystemRights    rights.Map // nil: all of the user's system rights
	CreatedAt       time.Time
	ExpiresAt       time.Time // zero: never
	LastUsedAt      time.Time // zero: never used
	LastUsedAddress string
}

// APITokenScope narrows a new token.
type APITokenScope struct {
	ReadOnly bool
	// SystemRights: at most these system rights; nil: all of the user's.
	SystemRights rights.Map
}

// apiTokenRow is a cached token. Once cached it is never modified.
type apiTokenRow struct {
	APIToken
	hash [tokenHashLen]byte
}

func (r *apiTokenRow) expired(now time.Time) bool {
	return !r.ExpiresAt.IsZero() && !now.Before(r.ExpiresAt)
}

// hashAPIToken is the SHA-256 of secret; ok is false when secret cannot be
// an API token's.
func hashAPIToken(secret string) (h [tokenHashLen]byte, ok bool) {
	rest, found := strings.CutPrefix(secret, APITokenPrefix)
	if !found || len(secret) != apiTokenLen {
		return h, false
	}
	if _, err := base64.RawURLEncoding.DecodeString(rest); err != nil {
		return h, false
	}
	return sha256.Sum256([]byte(secret)), true
}

// IsAPIToken reports whether token has the form of an API token's secret.
func IsAPIToken(token string) bool { return strings.HasPrefix(token, APITokenPrefix) }

// redactedToken stands for an API token's secret in an error: the secret
// is never echoed, not even to its holder.
const redactedToken = APITokenPrefix + "..."

// findAPIToken is the session that the API token secret stands for, used
// from address: its user's principal narrowed by the token's scope. An
// unknown, revoked or expired token, or one whose user is disabled or gone,
// is error.user.session_not_found.
func (s *Service) findAPIToken(ctx context.Context, secret, address string) (*Session, error) {
	hash, ok := hashAPIToken(secret)
	if !ok {
		return nil, errors.SessionNotFound(redactedToken)
	}
	now := s.now()
	r, cached := s.apiTokens.Get(hash)
	if !cached || r.expired(now) || now.Sub(r.LastUsedAt) >= s.cfg.TouchInterval {
		epoch := s.apiTokens.Epoch()
		var err error
		if r, err = touchAPIToken(ctx, s.db, hash[:], now, address); err != nil {
			return nil, err
		}
		if r == nil {
			if cached {
				s.apiTokens.Drop(hash)
			}
			return nil, errors.SessionNotFound(redactedToken)
		}
		s.apiTokens.Put(hash, r, epoch)
	}
	id, err := s.identity(ctx, r.UserID)
	if err != nil {
		return nil, err
	}
	if id == nil || id.loginDisabled {
		return nil, errors.SessionNotFound(redactedToken)
	}
	return &Session{
		Token: secret, UserID: r.UserID, AuthMethod: MethodAPIToken, AuthenticatedAt: r.CreatedAt,
		CreatedAt: r.CreatedAt, LastUsedAt: r.LastUsedAt, Principal: s.scopedPrincipal(r, id.principal),
		APITokenID: r.ID, ReadOnly: r.ReadOnly, scopedRights: r.SystemRights != nil, userLanguage: id.language,
	}, nil
}

// MethodAPIToken is the authentication method a session body shows for a
// request made with an API token.
const MethodAPIToken = "api_token"

// scopedPrincipal is user narrowed to the system rights of token r: the
// same principal when the token has no system-right scope, else a copy whose
// rights are the intersection, cached per token for as long as the user's
// principal stays the same.
func (s *Service) scopedPrincipal(r *apiTokenRow, user *policy.Principal) *policy.Principal {
	if r.SystemRights == nil {
		return user
	}
	if c, ok := s.scoped.Get(r.ID); ok && c.from == user {
		return c.principal
	}
	epoch := s.scoped.Epoch()
	p := &policy.Principal{UserID: user.UserID, Login: user.Login, UserType: user.UserType,
		Groups: user.Groups, SystemGroups: user.SystemGroups,
		SystemRights: scopeRights(r.SystemRights, user)}
	p.RememberDecisions()
	s.scoped.Put(r.ID, &scopedEntry{from: user, principal: p}, epoch)
	return p
}

// scopedEntry is a token's narrowed principal and the user principal it was
// built from.
type scopedEntry struct {
	from, principal *policy.Principal
}

// scopeRights are the system rights a token of scope gives holder: what of
// scope holder holds. A holder of system.root holds everything, so for root
// the scope is returned whole.
func scopeRights(scope rights.Map, holder *policy.Principal) rights.Map {
	if holder.IsRoot() {
		return maps.Clone(scope)
	}
	return intersectRights(scope, holder.SystemRights)
}

// intersectRights is what of scope held holds: a right both name; a boolean
// parameter true in both; another parameter when both give the same value.
func intersectRights(scope, held rights.Map) rights.Map {
	out := rights.Map{}
	for name, params := range scope {
		have, ok := held[name]
		if !ok {
			continue
		}
		kept := rights.Params{}
		for k, v := range params {
			if hv, ok := have[k]; ok {
				if b, isBool := v.(bool); isBool {
					hb, _ := hv.(bool)
					kept[k] = b && hb
				} else if reflect.DeepEqual(v, hv) {
					kept[k] = v
				}
			}
		}
		out[name] = kept
	}
	return out
}

// checkScopeHeld refuses a scope that asks for more than p holds:
// error.user.no_system_right naming the first right (in name order) or
// parameter it lacks.
func checkScopeHeld(scope rights.Map, p *policy.Principal) error {
	if p.IsRoot() {
		return nil
	}
	got := intersectRights(scope, p.SystemRights)
	for _, name := range sortedRightNames(scope) {
		have, ok := got[name]
		if !ok {
			return errors.NoSystemRight(name)
		}
		for k, v := range scope[name] {
			if !reflect.DeepEqual(have[k], v) {
				if b, isBool := v.(bool); isBool && !b {
					continue // asking for false asks for nothing
				}
				return errors.NoSystemRightParam(name, k)
			}
		}
	}
	return nil
}

func sortedRightNames(m rights.Map) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// CreateAPIToken creates a token for the caller p (ClientAddressFrom(ctx)
// is not recorded: a token is "used" only when it authenticates a request)
// and returns it with its secret, the only time the secret is ever given
// out. name must be a display text; expires, when not zero, must lie in the
// future; the scope may not exceed p's own rights.
func (s *Service) CreateAPIToken(ctx context.Context, p *policy.Principal, name string, expires time.Time,
	scope APITokenScope) (*APIToken, string, error) {
	now := s.now()
	if !expires.IsZero() && !expires.After(now) {
		return nil, "", errors.InvalidValue("expires", "a time in the future expected")
	}
	if scope.SystemRights != nil {
		if err := checkScopeHeld(scope.SystemRights, p); err != nil {
			return nil, "", err
		}
	}
	rest, err := newToken()
	if err != nil {
		return nil, "", err
	}
	secret := APITokenPrefix + rest
	hash := sha256.Sum256([]byte(secret))
	var t *APIToken
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		// An advisory lock per user serialises the creates of one user, so
		// that the count below is exact; session locks no row of users,
		// which package user owns. (A deleted user's tokens go with it:
		// api_tokens references users ON DELETE CASCADE.)
		if lockErr := lockAPITokenCreates(ctx, tx, p.UserID); lockErr != nil {
			return lockErr
		}
		var n int
		if scanErr := tx.QueryRowContext(ctx, `SELECT count(*) FROM api_tokens WHERE user_id = $1`, p.UserID).
			Scan(&n); scanErr != nil {
			return errors.Database(scanErr)
		}
		if n >= MaxAPITokensPerUser {
			return errors.InvalidValue("name", "a user may hold at most "+strconv.Itoa(MaxAPITokensPerUser)+
				" API tokens; revoke one first")
		}
		var insertErr error
		t, insertErr = insertAPIToken(ctx, tx, p.UserID, name, hash[:], scope, now, expires)
		if insertErr != nil {
			return insertErr
		}
		return audit.Record(ctx, tx, []audit.Event{{ActorUserID: p.UserID, ObjectType: AuditObjectType,
			ObjectID: t.ID, Action: "create", After: auditView(t)}})
	})
	if err != nil {
		return nil, "", err
	}
	return t, secret, nil
}

// AuditObjectType is the type of the audit events of API tokens.
const AuditObjectType = "api_token"

// auditView is what the audit trail keeps of a token: never its secret or
// its hash.
func auditView(t *APIToken) json.RawMessage {
	b, _ := json.Marshal(t.View())
	return b
}

// CanManageAPITokens reports whether p may list and revoke other users'
// tokens: system.root, or system.user with manage_api_tokens.
func CanManageAPITokens(p *policy.Principal) bool {
	return p.IsRoot() || p.SystemRights.Bool(rights.SystemUser, rights.ParamManageAPITokens)
}

// ListAPITokens lists the tokens of user userID, oldest first, for p: its
// own, or anybody's when p may manage tokens
// (error.user.no_system_right otherwise).
func (s *Service) ListAPITokens(ctx context.Context, p *policy.Principal, userID int64) ([]APIToken, error) {
	if userID != p.UserID && !CanManageAPITokens(p) {
		return nil, errors.NoSystemRightParam(rights.SystemUser, rights.ParamManageAPITokens)
	}
	return listAPITokens(ctx, s.db, userID)
}

// RevokeAPIToken deletes token id for p: its own, or anybody's when p may
// manage tokens. A token p may not see is error.user.object_not_found, as
// an unknown one is, so that ids reveal nothing. Every process stops
// accepting the token when the notification arrives.
func (s *Service) RevokeAPIToken(ctx context.Context, p *policy.Principal, id int64) error {
	var hash []byte
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		t, h, err := deleteAPIToken(ctx, tx, id)
		if err != nil {
			return err
		}
		if t == nil || t.UserID != p.UserID && !CanManageAPITokens(p) {
			return errors.ObjectNotFound(strconv.FormatInt(id, 10))
		}
		hash = h
		if err := audit.Record(ctx, tx, []audit.Event{{ActorUserID: p.UserID, ObjectType: AuditObjectType,
			ObjectID: t.ID, Action: "delete", Before: auditView(t)}}); err != nil {
			return err
		}
		return notifyToken(ctx, tx, h)
	})
	if err != nil {
		return err
	}
	s.apiTokens.Drop([tokenHashLen]byte(hash))
	return nil
}

// APITokenView is a token as the API shows it.
type APITokenView struct {
	ID              int64     `json:"_id"`
	User            int64     `json:"user_id"`
	Name            string    `json:"name"`
	Scope           scopeView `json:"scope"`
	Created         string    `json:"created"`
	Expires         *string   `json:"expires"`
	LastUsed        *string   `json:"last_used"`
	LastUsedAddress *string   `json:"last_used_address"`
	Secret          string    `json:"secret,omitempty"`
}

type scopeView struct {
	ReadOnly     bool        `json:"read_only"`
	SystemRights *rights.Map `json:"system_rights"`
}

// View is t as the API and the audit trail show it (without a secret).
func (t *APIToken) View() APITokenView {
	v := APITokenView{ID: t.ID, User: t.UserID, Name: t.Name, Created: formatTime(t.CreatedAt),
		Scope: scopeView{ReadOnly: t.ReadOnly}}
	if t.SystemRights != nil {
		m := t.SystemRights
		v.Scope.SystemRights = &m
	}
	if !t.ExpiresAt.IsZero() {
		e := formatTime(t.ExpiresAt)
		v.Expires = &e
	}
	if !t.LastUsedAt.IsZero() {
		l := formatTime(t.LastUsedAt)
		v.LastUsed = &l
	}
	if t.LastUsedAddress != "" {
		a := t.LastUsedAddress
		v.LastUsedAddress = &a
	}
	return v
}

func formatTime(t time.Time) string { return t.UTC().Format(input.TimestampFormat) }

// ReadOnlyRefusal is the error for a write (method) made with the read-only
// API token id: error.user.insufficient_rights, the code an easydb client
// already handles as "authenticated, but not allowed", with operation
// create (PUT), delete (DELETE) or update (any other method), type
// api_token, ids the token's id and right "write", the right the token's
// scope lacks.
func ReadOnlyRefusal(method string, id int64) error {
	op := "update"
	switch method {
	case "PUT":
		op = "create"
	case "DELETE":
		op = "delete"
	}
	return errors.InsufficientRights(op, AuditObjectType, strconv.FormatInt(id, 10), "write")
}
