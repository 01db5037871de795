package kanboard

import (
	"strings"

	"github.com/gorilla/mux"
	"github.com/groupd/groupd/audit"
	"github.com/groupd/groupd/group"
	"github.com/groupd/groupd/session"
	"github.com/groupd/groupd/user"
	"github.com/groupd/groupd/web"
)

// Service is the JSON-RPC endpoint.
type Service struct {
	groups   *group.Store
	users    *user.Store
	sessions *session.Service
	events   *audit.Store
	appToken string
	version  string
}

// Config configures the endpoint.
type Config struct {
	// AppToken is the application API token (Basic jsonrpc:<AppToken>,
	// acting as root); "" turns application access off: every call with
	// the application user is then 401.
	AppToken string
	// Version is what getVersion answers.
	Version string
}

// New returns the endpoint over the core stores.
func New(groups *group.Store, users *user.Store, sessions *session.Service, events *audit.Store,
	cfg Config) *Service {
	return &Service{groups: groups, users: users, sessions: sessions, events: events,
		appToken: strings.TrimSpace(cfg.AppToken), version: cfg.Version}
}

// Register mounts Path on r for every method: Kanboard answers a GET (no
// body) with Parse error, as any other unreadable request.
func (s *Service) Register(r *mux.Router) {
	r.Handle(Path, web.Handle(s.serve))
}
