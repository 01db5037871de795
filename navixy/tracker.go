package navixy

import (
	"context"
	"math"

	"github.com/groupd/groupd/object"
)

// TrackerKind is the kind of the groupd objects that are Navixy trackers.
const TrackerKind = "navixy.tracker"

type trackerOut struct {
	ID      int64  `json:"id"`
	Label   string `json:"label"`
	GroupID int64  `json:"group_id"` // 0: in no group
}

// listTrackers is tracker/list, minimal: id, label and group_id of every
// tracker the caller may see, ordered by id.
func (h *Handler) listTrackers(ctx context.Context, c *call) (any, error) {
	return listAll(func(offset int) ([]*object.Object, int, error) {
		return h.objects.List(ctx, c.principal, object.Filter{Kind: TrackerKind, Limit: object.MaxLimit, Offset: offset})
	}, func(o *object.Object) trackerOut { return trackerOut{ID: o.ID, Label: o.Name, GroupID: o.GroupID} })
}

// assign is tracker/group/assign {id, trackers}: the trackers move into
// group id (0: out of any group) in one statement, all or nothing. An
// unknown group, one the caller may not see and a system group are 201; a
// tracker that is unknown or not the caller's is 217 and nothing moves.
// Rights are the object core's: link on the group the trackers enter,
// unlink on each group they leave.
func (h *Handler) assign(ctx context.Context, c *call) (any, error) {
	id, err := c.params.Int64("id", 0)
	if err != nil {
		return nil, err
	}
	// Any integer is a tracker id to look up: one that cannot exist is
	// unknown (217), as Navixy answers, not a malformed parameter.
	trackers, err := c.params.Int64s("trackers", math.MinInt64, h.MaxTrackers)
	if err != nil {
		return nil, err
	}
	if id != 0 {
		if _, err := h.trackerGroup(ctx, c, id); err != nil {
			return nil, err
		}
	}
	if len(trackers) == 0 {
		return succeeded, nil
	}
	if _, err := h.objects.Move(ctx, c.principal, object.Move{IDs: trackers, Kind: TrackerKind, To: id}); err != nil {
		return nil, err
	}
	return succeeded, nil
}
