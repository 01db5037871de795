package server

import (
	"context"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/groupd/groupd/audit"
	"github.com/groupd/groupd/console"
	"github.com/groupd/groupd/group"
	"github.com/groupd/groupd/kanboard"
	"github.com/groupd/groupd/navixy"
	"github.com/groupd/groupd/noko"
	"github.com/groupd/groupd/object"
	"github.com/groupd/groupd/openapi"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/session"
	"github.com/groupd/groupd/user"
)

// registerServices builds the services of every package on m.DB and mounts
// their routes on r. Each package owns its routes; this is only the wiring.
func (m *Main) registerServices(ctx context.Context, r *mux.Router) error {
	// Root's first password belongs to package user, which owns users; it is
	// set before the first login can be tried.
	rootCtx, cancelRoot := context.WithTimeout(ctx, time.Minute)
	err := user.EnsureRootPassword(rootCtx, m.DB, m.Config.RootPassword, m.Config.MinPasswordLength, m.Config.Stderr, m.Log)
	cancelRoot()
	if err != nil {
		return err
	}
	// Session reads users through user.Logins: it owns no user table.
	sessions, err := session.New(m.DB, user.Logins{}, session.Config{
		IdleTimeout:        m.Config.SessionIdleTimeout,
		LoginMaxFailures:   m.Config.LoginMaxFailures,
		LoginFailureWindow: m.Config.LoginFailureWindow,

		MaxLifetime:                m.Config.SessionMaxLifetime,
		UnauthenticatedIdleTimeout: m.Config.SessionUnauthenticatedTime,
		NewSessionsPerMinute:       m.Config.NewSessionsPerMinute,
		AddressMaxFailures:         m.Config.AddressMaxFailures,
		KnownAddressAge:            m.Config.KnownAddressAge,
		LoginQueue:                 m.Config.LoginQueue,
		ClientAddressHeader:        m.Config.ClientAddressHeader,
		MinPasswordLength:          m.Config.MinPasswordLength,

		InstanceName:  m.Config.InstanceName,
		ServerVersion: Version,
	}, m.Log)
	if err != nil {
		return err
	}
	m.Sessions = sessions
	m.closers = append(m.closers, sessions.Close)
	sessions.Register(r)
	sessions.RegisterAPITokens(r, sessions.RequireAuth)

	engine, err := policy.New()
	if err != nil {
		return err
	}
	m.Policy = engine
	principal := func(r *http.Request) *policy.Principal { return session.PrincipalFrom(r.Context()) }
	groups, err := group.NewStore(ctx, m.DB, engine, sessions)
	if err != nil {
		return err
	}
	m.closers = append(m.closers, groups.Close)
	groupAPI := group.NewHandler(groups, engine, principal)
	groupAPI.MaxItems = m.Config.MaxBulkItems
	groupAPI.Register(r, sessions.RequireAuth)
	// Why a user holds each right on a group: read-only, the same engine.
	group.NewExplainHandler(groups, engine, principal, sessions.PrincipalOf).Register(r, sessions.RequireAuth)
	// The session service tells other processes with pg_notify and drops
	// its own cached principals at once.
	users := user.NewStore(m.DB, engine, sessions)
	users.Passwords = sessions
	sessionID := func(r *http.Request) int64 {
		if s := session.FromContext(r.Context()); s != nil {
			return s.ID
		}
		return 0
	}
	userAPI := user.NewHandler(users, engine, principal, sessionID)
	userAPI.MaxItems, userAPI.MaxPasswords = m.Config.MaxBulkItems, m.Config.MaxBulkPasswords
	userAPI.Register(r, sessions.RequireAuth)
	// Grouped objects: a group's delete ungroups its objects, in its
	// transaction, through the object store (which owns their table).
	objects := object.NewStore(m.DB, engine, groups)
	groups.OnDelete(objects.Ungroup)
	objectAPI := object.NewHandler(objects, principal)
	objectAPI.MaxItems = m.Config.MaxBulkItems
	objectAPI.Register(r, sessions.RequireAuth)
	m.Objects = objects
	// The Noko v2 surface: teams, project groups, projects and users under
	// /noko/v2, over the stores above.
	noko.New(groups, users, objects, sessions).Register(r)
	// The Navixy surface (/navixy/v2/): its hash is a session, found by the
	// surface itself, as Navixy carries it in a parameter or NVX header.
	navixyAPI := navixy.New(sessions, groups, objects)
	navixyAPI.MaxTrackers = m.Config.MaxBulkItems
	navixyAPI.Register(r)
	events := audit.NewStore(m.DB.DB)
	audit.NewHandler(events, engine.HasSystemRight, principal).Register(r, sessions.RequireAuth)
	if m.Config.AuditRetention > 0 {
		interval := m.Config.AuditSweepInterval
		if interval <= 0 {
			interval = time.Hour
		}
		m.closers = append(m.closers, audit.StartRetention(events, m.Config.AuditRetention, interval, m.Log).Stop)
	}

	// Kanboard's JSON-RPC: a surface over the same stores.
	kanboard.New(groups, users, sessions, events, kanboard.Config{
		AppToken: m.Config.KanboardAPIToken, Version: Version,
	}).Register(r)

	doc, err := openapi.Handler()
	if err != nil {
		return err
	}
	r.Handle("/api/v1/openapi.json", doc).Methods(http.MethodGet)

	// The admin console: static files, a client of the APIs above.
	ui, err := console.New()
	if err != nil {
		return err
	}
	ui.Register(r)
	return nil
}
