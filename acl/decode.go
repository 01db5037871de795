package acl

import (
	"strconv"
	"time"

	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/input"
	"github.com/groupd/groupd/rights"
)

// Subject is the "who" of an entry or an owner as a client names it.
type Subject struct {
	Kind string // "user" or "group"
	ID   int64
}

// DecodeRef reads a user or group reference in short format:
// {"_basetype":"user","user":{"_id":7,...}} or {"group":{"_id":3}}. Only
// _id is significant; the display fields of the short format are accepted
// and ignored, so that what a client read can be sent back.
func DecodeRef(v any, path string) (Subject, error) {
	o, err := input.AsObject(v, path)
	if err != nil {
		return Subject{}, err
	}
	if onlyErr := o.Only("_basetype", "user", "group"); onlyErr != nil {
		return Subject{}, onlyErr
	}
	bt, _, err := o.String("_basetype")
	if err != nil {
		return Subject{}, err
	}
	var kind string
	switch {
	case o.Has("user") && o.Has("group"):
		return Subject{}, errors.InvalidValue(path, "either user or group, not both")
	case o.Has("user"):
		kind = "user"
	case o.Has("group"):
		kind = "group"
	default:
		return Subject{}, errors.AttributeExpected(path + ".user")
	}
	if bt != "" && bt != kind {
		return Subject{}, errors.InvalidValue(o.At("_basetype"), "must be "+kind)
	}
	inner, err := o.Object(kind)
	if err != nil {
		return Subject{}, err
	}
	id, ok, err := inner.ID("_id")
	if err != nil {
		return Subject{}, err
	}
	if !ok {
		return Subject{}, errors.AttributeExpected(inner.At("_id"))
	}
	return Subject{Kind: kind, ID: id}, nil
}

// Decode reads an _acl array at path. null means "not given" (ok false).
// allowed are the rights an entry may grant here (rights.GroupACLRights or
// rights.UserACLRights). The subjects are not checked for existence: the
// store does that in the write's transaction.
func Decode(v any, path string, allowed []string) (entries []Entry, ok bool, err error) {
	if v == nil {
		return nil, false, nil
	}
	arr, err := input.AsArray(v, path)
	if err != nil {
		return nil, false, err
	}
	entries = make([]Entry, 0, len(arr))
	for i, item := range arr {
		at := path + "[" + strconv.Itoa(i) + "]"
		o, err := input.AsObject(item, at)
		if err != nil {
			return nil, false, err
		}
		// date_created is read-only and sticky/tagfilter mean nothing for
		// user and group ACLs: accepted so that output can be sent back.
		if onlyErr := o.Only("_id", "who", "rights", "active", "when", "date_created", "sticky", "tagfilter"); onlyErr != nil {
			return nil, false, onlyErr
		}
		e := Entry{Active: true}
		if e.ID, _, err = o.ID("_id"); err != nil {
			return nil, false, err
		}
		if w := o.M["who"]; w != nil {
			wo, asObjectErr := input.AsObject(w, o.At("who"))
			if asObjectErr != nil {
				return nil, false, asObjectErr
			}
			if wo.Has("_owner") {
				if onlyErr := wo.Only("_owner"); onlyErr != nil {
					return nil, false, onlyErr
				}
				b, _, boolErr := wo.Bool("_owner")
				if boolErr != nil {
					return nil, false, boolErr
				}
				if !b {
					return nil, false, errors.InvalidValue(wo.At("_owner"), "must be true")
				}
				e.WhoOwner = true
			} else {
				s, decodeRefErr := DecodeRef(w, o.At("who"))
				if decodeRefErr != nil {
					return nil, false, decodeRefErr
				}
				if s.Kind == "user" {
					e.WhoUserID = s.ID
				} else {
					e.WhoGroupID = s.ID
				}
			}
		}
		if e.Rights, err = rights.DecodeACLRights(o.M["rights"], o.At("rights"), allowed); err != nil {
			return nil, false, err
		}
		e.Mask = MaskOf(e.Rights)
		if b, has, err := o.Bool("active"); err != nil {
			return nil, false, err
		} else if has {
			e.Active = b
		}
		if w := o.M["when"]; w != nil {
			wo, err := input.AsObject(w, o.At("when"))
			if err != nil {
				return nil, false, err
			}
			if err := wo.Only("from", "to"); err != nil {
				return nil, false, err
			}
			if t, has, err := wo.Time("from"); err != nil {
				return nil, false, err
			} else if has {
				e.From = &t
			}
			if t, has, err := wo.Time("to"); err != nil {
				return nil, false, err
			} else if has {
				e.To = &t
			}
			if e.From != nil && e.To != nil && !e.From.Before(*e.To) {
				return nil, false, errors.InvalidValue(o.At("when"), "from must be before to")
			}
		}
		entries = append(entries, e)
	}
	return entries, true, nil
}

// SameGrants reports whether two ACLs grant the same: the same entries
// (subject, rights, active, window) in the same order, ignoring ids and
// creation times. A client that sends back the ACL it read has not changed
// it, and needs no right to edit it.
func SameGrants(a, b []Entry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := &a[i], &b[i]
		if x.WhoUserID != y.WhoUserID || x.WhoGroupID != y.WhoGroupID || x.WhoOwner != y.WhoOwner ||
			x.Active != y.Active || !sameTime(x.From, y.From) || !sameTime(x.To, y.To) {
			return false
		}
		xr, err1 := x.RightsMap()
		yr, err2 := y.RightsMap()
		if err1 != nil || err2 != nil || !rights.Equal(xr, yr) {
			return false
		}
	}
	return true
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

// Grants are the access attributes of a group or user item: _owner, _acl
// and _system_rights. An absent (or, for _acl and _system_rights, null)
// attribute is not Set: an update keeps what there is.
type Grants struct {
	Owner           *Subject // nil: not given
	ACL             []Entry
	ACLSet          bool
	SystemRights    rights.Map
	SystemRightsSet bool
}

// DecodeGrants reads the grants of item top: entries of _acl may grant the
// rights allowed; an _owner of null is refused with nullOwner as the
// reason.
func DecodeGrants(top input.Object, allowed []string, nullOwner string) (Grants, error) {
	var g Grants
	var err error
	if top.Has("_owner") {
		if top.IsNull("_owner") {
			return g, errors.InvalidValue("_owner", nullOwner)
		}
		s, refErr := DecodeRef(top.M["_owner"], "_owner")
		if refErr != nil {
			return g, refErr
		}
		g.Owner = &s
	}
	if g.ACL, g.ACLSet, err = Decode(top.M["_acl"], "_acl", allowed); err != nil {
		return g, err
	}
	if sr := top.M["_system_rights"]; sr != nil {
		if g.SystemRights, err = rights.DecodeSystemRights(sr, "_system_rights"); err != nil {
			return g, err
		}
		g.SystemRightsSet = true
	}
	return g, nil
}
