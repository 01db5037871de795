// Package entry is the ACL entry type (who, rights, active, when) and what
// a decision reads of it. It is split from package acl, which decodes,
// validates and stores entries, so that the decision engine (policy) reads
// entries without reaching request decoding.
package entry

import (
	"encoding/json"
	"time"

	"github.com/groupd/groupd/rights"
)

// Entry is one ACL entry on a group or a user.
//
// Who is exactly one of WhoUserID, WhoGroupID, WhoOwner, or none (an entry
// with no subject grants nothing). WhoOwner ({"_owner": true}) is stored and
// returned, but never evaluated, as in easydb.
type Entry struct {
	ID         int64
	WhoUserID  int64
	WhoGroupID int64
	WhoOwner   bool
	Rights     rights.Map  // as the client sent it (echoed verbatim)
	Mask       rights.Mask // Rights with implications, as bits
	// Stored is Rights as stored (jsonb text) for entries read from the
	// database, where Rights stays nil until RightsMap is asked for:
	// output needs only the text, decisions only the Mask.
	Stored   json.RawMessage
	Active   bool
	From, To *time.Time // the "when" window; nil ends are open
	Created  time.Time
}

// InEffect reports whether the entry grants anything at now: it is active
// and now lies in [From, To).
func (e *Entry) InEffect(now time.Time) bool {
	if !e.Active {
		return false
	}
	if e.From != nil && now.Before(*e.From) {
		return false
	}
	if e.To != nil && !now.Before(*e.To) {
		return false
	}
	return true
}

// RightsMap returns the entry's rights, decoding the stored text if needed.
func (e *Entry) RightsMap() (rights.Map, error) {
	if e.Rights != nil || e.Stored == nil {
		return e.Rights, nil
	}
	var m rights.Map
	if err := json.Unmarshal(e.Stored, &m); err != nil {
		return nil, err
	}
	e.Rights = m
	return m, nil
}
