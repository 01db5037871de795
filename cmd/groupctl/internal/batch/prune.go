package batch

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/groupd/groupd/client"
	apierrors "github.com/groupd/groupd/errors"
)

// DefaultMaxDelete is --max-delete when it is not given: a tenth of the
// synced entries on the server. A nightly sync whose source came out empty
// or truncated thus stops instead of emptying the directory.
const DefaultMaxDelete = "10%"

// MaxDelete is the most deletions --prune may make: a number, or a
// percentage of the synced entries (the server's non-system groups, and
// users when users are pruned, that have a reference).
type MaxDelete struct {
	N       int
	Percent float64 // used when IsPercent
	// IsPercent: the limit is Percent of the synced entries, at least 1.
	IsPercent bool
}

// ParseMaxDelete reads "N" or "N%".
func ParseMaxDelete(s string) (MaxDelete, error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || f < 0 || f > 100 || math.IsNaN(f) {
			return MaxDelete{}, fmt.Errorf("--max-delete %q: a percentage from 0%% to 100%% expected", s)
		}
		return MaxDelete{Percent: f, IsPercent: true}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return MaxDelete{}, fmt.Errorf("--max-delete %q: a number of deletions (N) or a percentage (N%%) expected", s)
	}
	return MaxDelete{N: n}, nil
}

// Of is the limit for synced entries on the server.
func (m MaxDelete) Of(synced int) int {
	if !m.IsPercent {
		return m.N
	}
	if m.Percent == 0 {
		return 0
	}
	return max(1, int(math.Floor(m.Percent*float64(synced)/100)))
}

func (m MaxDelete) String() string {
	if m.IsPercent {
		return strconv.FormatFloat(m.Percent, 'f', -1, 64) + "%"
	}
	return strconv.Itoa(m.N)
}

// PruneRefusedError is a --prune that groupctl refused: the file has no
// items, or the deletions it implies exceed --max-delete without --force.
// A real run refused this way writes nothing at all.
type PruneRefusedError struct {
	Reason string
}

func (e *PruneRefusedError) Error() string { return "--prune refused: " + e.Reason }

// Deletion is one entry --prune deletes (or, in a dry run, would delete).
type Deletion struct {
	Kind      Kind   `json:"kind"`
	ID        int64  `json:"id"`
	Reference string `json:"reference"`
	Name      string `json:"name,omitempty"`
}

// planPrune is what --prune deletes: the server's visible non-system
// entries of each kind the file holds that have a reference which no item
// of the file claims and that no item matches. A kind the file holds no
// item of is left alone (a users file never prunes groups). synced is the
// number of entries that could be pruned at all, the base of a percentage.
func (im *Importer) planPrune(groups []client.Group, users []client.User, grecs, urecs []*Record) (doomed []Deletion, synced int) {
	if len(grecs) > 0 {
		entries := make([]syncedEntry, 0, len(groups))
		for i := range groups {
			g := &groups[i]
			entries = append(entries, syncedEntry{g.Group.ID, g.Group.Type, g.Group.Reference, g.Label()})
		}
		d, n := pruneKind(KindGroup, entries, grecs, func(r *Record) int64 { return groupID(im.gix.match(r.G)) })
		doomed, synced = append(doomed, d...), synced+n
	}
	if len(urecs) > 0 {
		entries := make([]syncedEntry, 0, len(users))
		for i := range users {
			u := &users[i]
			entries = append(entries, syncedEntry{u.User.ID, u.User.Type, u.User.Reference, u.Label()})
		}
		d, n := pruneKind(KindUser, entries, urecs, func(r *Record) int64 { return userID(im.uix.match(r.U)) })
		doomed, synced = append(doomed, d...), synced+n
	}
	sort.SliceStable(doomed, func(i, j int) bool {
		if doomed[i].Kind != doomed[j].Kind {
			return doomed[i].Kind == KindGroup
		}
		return doomed[i].ID < doomed[j].ID
	})
	return doomed, synced
}

// syncedEntry is what planPrune needs of a server's group or user.
type syncedEntry struct {
	id        int64
	typ       string
	reference *string
	label     string
}

// pruneKind is the entries of one kind that --prune deletes, and the number
// of synced ones (non-system, with a reference).
func pruneKind(kind Kind, entries []syncedEntry, recs []*Record, matched func(*Record) int64) (doomed []Deletion, synced int) {
	refs := map[string]bool{}
	ids := map[int64]bool{}
	for _, r := range recs {
		if ref := r.Reference(); ref != "" {
			refs[ref] = true
		}
		if id := matched(r); id != 0 {
			ids[id] = true
		}
	}
	for _, e := range entries {
		if e.typ == "system" || e.reference == nil {
			continue
		}
		synced++
		if !refs[*e.reference] && !ids[e.id] {
			doomed = append(doomed, Deletion{Kind: kind, ID: e.id, Reference: *e.reference, Name: e.label})
		}
	}
	return doomed, synced
}

// checkMaxDelete refuses doomed when it exceeds the limit and --force is
// not given.
func (im *Importer) checkMaxDelete(doomed []Deletion, synced int) *PruneRefusedError {
	limit := im.Opt.MaxDelete.Of(synced)
	if im.Opt.Force || len(doomed) <= limit {
		return nil
	}
	return &PruneRefusedError{Reason: fmt.Sprintf("it would delete %d of the %d synced entries on the server, "+
		"more than --max-delete %s allows (%d); check the file, then raise --max-delete or add --force",
		len(doomed), synced, im.Opt.MaxDelete, limit)}
}

// prune deletes doomed, one request each, groups before users. A refused
// delete is a failure of the report; a server or network failure stops.
func (im *Importer) prune(ctx context.Context, doomed []Deletion) error {
	for _, d := range doomed {
		del := im.C.DeleteGroup
		counts := &im.rep.Groups
		if d.Kind == KindUser {
			del, counts = im.C.DeleteUser, &im.rep.Users
		}
		if err := im.pruneOne(ctx, d, del, counts); err != nil {
			return err
		}
	}
	return nil
}

func (im *Importer) pruneOne(ctx context.Context, d Deletion, del func(context.Context, int64) error, counts *Counts) error {
	if im.Opt.DryRun {
		im.say("delete %s #%d reference=%q name=%q (--prune)", d.Kind, d.ID, d.Reference, d.Name)
		counts.Deleted++
		im.rep.Deleted++
		im.rep.Deletions = append(im.rep.Deletions, d)
		return nil
	}
	err := del(ctx, d.ID)
	var e *client.Error
	switch {
	case err == nil:
		counts.Deleted++
		im.rep.Deleted++
		im.rep.Deletions = append(im.rep.Deletions, d)
	case apierrors.As(err, &e) && !e.IsServer():
		im.rep.Failures = append(im.rep.Failures, Failure{Kind: d.Kind, ID: d.ID, Reference: d.Reference, Name: d.Name,
			Code: e.Code, Parameters: e.Parameters, Description: "--prune: " + e.Description})
		counts.Failed++
	default:
		return err
	}
	return nil
}
