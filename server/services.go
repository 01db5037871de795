package server

import (
	"context"

	"github.com/gorilla/mux"
	"github.com/groupd/groupd/session"
)

// registerServices builds the services of every package on m.DB and mounts
// their routes on r. Each package owns its routes; this is only the wiring.
func (m *Main) registerServices(ctx context.Context, r *mux.Router) error {
	sessions, err := session.New(m.DB, session.Config{
		IdleTimeout:        m.Config.SessionIdleTimeout,
		LoginMaxFailures:   m.Config.LoginMaxFailures,
		LoginFailureWindow: m.Config.LoginFailureWindow,
		RootPassword:       m.Config.RootPassword,
		Stderr:             m.Config.Stderr,
		InstanceName:       m.Config.InstanceName,
		ServerVersion:      Version,
	}, m.Log)
	if err != nil {
		return err
	}
	m.Sessions = sessions
	m.closers = append(m.closers, sessions.Close)
	sessions.Register(r)
	return nil
}
