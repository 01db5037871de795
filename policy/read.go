package policy

import (
	"context"
	"strconv"

	"github.com/groupd/groupd/errors"
)

// Reader is the part of the engine a read decision asks (*Engine).
type Reader interface {
	Can(p *Principal, right string, obj *Object) (bool, error)
	HasSystemRight(p *Principal, name, param string) bool
}

// RequireSystemRight is nil when p holds system right name, else the
// error the API answers (error.user.no_system_right).
func RequireSystemRight(a Reader, p *Principal, name string) error {
	if !a.HasSystemRight(p, name, "") {
		return errors.NoSystemRight(name)
	}
	return nil
}

// RequireRead is nil when p holds right on obj, the typ with id, else the
// error the API answers for a read refused (error.user.insufficient_rights,
// operation read), which surfaces that hide what a caller cannot see turn
// into a 404.
func RequireRead(a Reader, p *Principal, right, typ string, id int64, obj *Object) error {
	if ok, err := a.Can(p, right, obj); err != nil {
		return errors.ServerGeneric(err)
	} else if !ok {
		return errors.InsufficientRights("read", typ, strconv.FormatInt(id, 10), right)
	}
	return nil
}

// Decidable is a resource's value as a read decision sees it: a pointer
// (nil: no such row) whose PolicyObject is complete for the decision.
type Decidable interface {
	comparable
	PolicyObject() *Object
}

// ReadRule is how reads of one resource are decided, the rules of GET
// /api/v1/<kind> and /api/v1/<kind>/<id>.
type ReadRule struct {
	Kind        string // "group", "user": the type a refusal names
	SystemRight string // what reading any of them needs (system.group, system.user)
	Right       string // what reading one needs on it (bag_read, read)
	// SelfRead: a principal reads its own row (a user itself) without
	// SystemRight and Right.
	SelfRead bool
	// NotFound is the error for an unknown id (errors.GroupNotFound, ...).
	NotFound func(id string) *errors.Error
}

// Reads decides the reads of one resource (T its value, F its listing
// filter) for every surface: the easydb handlers, Kanboard, Noko and Navixy
// ask the same methods, so that each answers a read exactly as the others
// decide it. A store embeds it (NewReads) with its undecided Get and List.
type Reads[T Decidable, F any] struct {
	authz Reader
	rule  ReadRule
	get   func(ctx context.Context, p *Principal, id int64) (T, error)
	list  func(ctx context.Context, p *Principal, f F) ([]T, int, error)
}

// NewReads returns the read decisions of rule over get and list, which
// read without deciding.
func NewReads[T Decidable, F any](authz Reader, rule ReadRule,
	get func(ctx context.Context, p *Principal, id int64) (T, error),
	list func(ctx context.Context, p *Principal, f F) ([]T, int, error)) Reads[T, F] {
	return Reads[T, F]{authz: authz, rule: rule, get: get, list: list}
}

// RequireReader is nil when p holds the system right that reading the
// resource needs (listing it, or reading one but oneself), else
// error.user.no_system_right.
func (r Reads[T, F]) RequireReader(p *Principal) error {
	return RequireSystemRight(r.authz, p, r.rule.SystemRight)
}

// ListReadable is the page of what p may read that matches f, with the
// number of all matches, when p holds the system right (RequireReader);
// which rows p may read is decided by the store's listing.
func (r Reads[T, F]) ListReadable(ctx context.Context, p *Principal, f F) ([]T, int, error) {
	if err := r.RequireReader(p); err != nil {
		return nil, 0, err
	}
	return r.list(ctx, p, f)
}

// Readable returns row id if p may read it, the decision of GET
// /api/v1/<kind>/<id>: the system right and the rule's right on the row
// (neither for oneself with SelfRead). An unknown id is the rule's
// NotFound; a row p may not read is error.user.insufficient_rights with
// operation read, returned with the row (a surface may look at it to
// answer as it must).
func (r Reads[T, F]) Readable(ctx context.Context, p *Principal, id int64) (T, error) {
	var none T
	self := r.rule.SelfRead && id == p.UserID
	if !self {
		if err := r.RequireReader(p); err != nil {
			return none, err
		}
	}
	v, err := r.get(ctx, p, id)
	switch {
	case err != nil:
		return none, err
	case v == none:
		return none, r.rule.NotFound(strconv.FormatInt(id, 10))
	case self:
		return v, nil
	}
	return v, RequireRead(r.authz, p, r.rule.Right, r.rule.Kind, id, v.PolicyObject())
}

// Visible returns row id when p holds the rule's right on it, and none
// (nil) both when there is no such row and when p may not read it: for a
// surface that answers the two alike (Navixy's "not found") before it
// changes the row. Like a change through /api/v1 it needs no system right;
// the change itself is decided by the store's Write or Delete.
func (r Reads[T, F]) Visible(ctx context.Context, p *Principal, id int64) (T, error) {
	var none T
	v, err := r.get(ctx, p, id)
	if err != nil || v == none {
		return none, err
	}
	ok, err := r.authz.Can(p, r.rule.Right, v.PolicyObject())
	if err != nil {
		return none, errors.ServerGeneric(err)
	}
	if !ok {
		return none, nil
	}
	return v, nil
}
