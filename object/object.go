// Package object is groupd's grouped objects: things a group holds that are
// not users (a Noko project, a Navixy tracker, a DAM's pool or device). Each
// object has a namespaced kind, a name, an optional reference unique per
// kind, JSON attributes, and is in at most one group. The package owns the
// objects table; surfaces (noko, navixy) and the easydb handlers of
// /api/v1/object call Store with the principal.
//
// Rights (DESIGN.md "Rights, in one place"; decided by package policy, the
// visibility also in SQL, and the two shown equal by a property test):
//   - an object is visible to root, to a holder of system.object with
//     read_all, and to whoever may read (bag_read) the group it is in; an
//     object that is invisible is answered as one that does not exist;
//   - creating needs system.object with create, changing its kind-specific
//     fields (name, reference, attributes) needs system.object with edit,
//     deleting needs system.object with delete;
//   - putting an object into a group needs link on that group, taking it out
//     of one needs unlink on it, moving it from one to another needs both.
package object

import (
	"encoding/json"
	"time"
)

// Limits of what clients write.
const (
	MaxKindLength      = 128
	MaxNameLength      = 1024
	MaxReferenceLength = 1024
	// MaxAttributesLength bounds the JSON text of one object's attributes.
	MaxAttributesLength = 65536
	// MaxLimit is the largest page of a listing, and the default one.
	MaxLimit = 1000
	// MaxMove is the most objects one Move names (a request of Noko's or
	// Navixy's carries at most this many ids).
	MaxMove = 100000
)

// Object is a grouped thing that is not a user.
type Object struct {
	ID, Version int64
	Kind        string // namespaced: "noko.project", "navixy.tracker", ...
	Name        string
	Reference   *string // unique per kind; nil: none
	// Attributes is a JSON object; "{}" when empty, never nil on output.
	Attributes json.RawMessage
	GroupID    int64 // 0: in no group
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Input is one item of a bulk write: PUT creates, POST updates or creates,
// as for groups.
type Input struct {
	ID, Version int64 // ID 0: create; an update's Version must be the current one + 1
	// Kind is required on create and immutable afterwards (an update may
	// repeat it).
	Kind         string
	Name         *string // nil on update: keep
	Reference    *string
	ReferenceSet bool            // false on update: keep
	Attributes   json.RawMessage // nil on update: keep
	// Group: nil keeps it (update) or puts the object in none (create); &0
	// takes it out of any group; &id moves it there.
	Group *int64
}

// IsCreate reports whether the item creates an object.
func (in *Input) IsCreate() bool { return in.ID == 0 }

// Filter selects objects in a listing. Every condition narrows the set of
// objects the principal may see anyway.
type Filter struct {
	IDs       []int64 // only these ids (nil: any)
	Kind      string  // "" any
	GroupID   int64   // only objects in this group; 0: any group or none (see Ungrouped)
	Ungrouped bool    // only objects in no group
	Name      string  // substring of the name, case-insensitive
	Reference *string // exactly this reference
	Limit     int     // 0: MaxLimit
	Offset    int
}

// Move puts objects into a group, or takes them out of one, in one
// statement whatever their number; all or nothing.
type Move struct {
	IDs  []int64 // the objects: all must exist, be visible, and be of Kind if Kind != ""
	Kind string
	To   int64 // the group; 0: out of any group
	// From: with To 0 and IDs nil, every object (of Kind) in this group
	// (Noko's remove_all_projects).
	From int64
	// OnlyFrom: taking out (To 0), act only on the objects of IDs that are
	// in this group and skip the others (Noko's remove_projects).
	OnlyFrom int64
	// SkipGrouped: putting in, skip the objects of IDs already in another
	// group instead of moving them (Noko's add_projects).
	SkipGrouped bool
}

// MoveResult tells which objects a Move changed and which it skipped, in id
// order. An object already where the move puts it is neither: it is
// counted as moved, without a new version or an audit event.
type MoveResult struct {
	Moved   []int64
	Skipped []int64
}
