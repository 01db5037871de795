package server

import (
	"context"

	"github.com/gorilla/mux"
)

// registerServices builds the services of every package on m.DB and mounts
// their routes on r. Each package owns its routes; this is only the wiring.
func (m *Main) registerServices(ctx context.Context, r *mux.Router) error {
	return nil
}
