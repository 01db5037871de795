package group

import (
	"encoding/json"

	"github.com/groupd/groupd/acl"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/input"
	"github.com/groupd/groupd/rights"
)

// MaxCommentLength is the longest comment or authorization_info; names and
// references have the limits of package input (input.MaxNameLength,
// input.MaxRefLength).
const MaxCommentLength = 65536

// Input is one validated item of a PUT or POST body. A field that was absent
// keeps its value on update (and takes its default on create); the *Set
// flags tell absent from given.
type Input struct {
	input.Head

	Type                                           string // "" when absent
	Name                                           *string
	NameSet                                        bool
	Displayname                                    map[string]string
	DisplaynameSet                                 bool
	Comment, Reference, AuthorizationInfo          *string
	CommentSet, ReferenceSet, AuthorizationInfoSet bool
	FrontendPrefs                                  json.RawMessage
	FrontendPrefsSet                               bool
	Color                                          *string
	ColorSet                                       bool
	acl.Grants                                     // _owner, _acl, _system_rights
}

// DecodeBody reads a PUT or POST body: an array of groups in full format.
// On PUT (create only) an item with an _id is refused.
func DecodeBody(body any, createOnly bool) ([]*Input, error) {
	return input.Items(body, func(v any, i int) (*Input, error) { return decodeItem(v, i, createOnly) })
}

// Attributes of an item and of its "group" object. _has_acl,
// _generated_rights, created_timestamp and last_updated_timestamp are
// read-only: accepted and ignored, so that a group read with GET can be
// sent back as it is.
var (
	itemAttributes  = []string{"_basetype", "group", "_owner", "_acl", "_system_rights", "_has_acl", "_generated_rights"}
	groupAttributes = []string{"_id", "_version", "type", "name", "displayname", "comment", "reference",
		"frontend_prefs", "authorization_info", "color", "created_timestamp", "last_updated_timestamp"}
)

func decodeItem(v any, index int, createOnly bool) (*Input, error) {
	head, err := input.DecodeBulkItem(v, index, "group", createOnly, itemAttributes, groupAttributes)
	if err != nil {
		return nil, err
	}
	top, g := head.Top, head.Body
	in := &Input{Head: head.Head}

	if t, has, stringErr := g.String("type"); stringErr != nil {
		return nil, stringErr
	} else if has {
		// "system" is accepted here so that a system group read with GET can
		// be sent back; the store refuses it anywhere else.
		if t != "easydb" && t != "system" && !rights.IsCustomGroupType(t) {
			return nil, errors.InvalidValue("group.type", `"easydb" or "custom-<name>" expected`)
		}
		if textErr := input.Text(t, "group.type", input.MaxNameLength); textErr != nil {
			return nil, textErr
		}
		in.Type = t
	}
	if in.NameSet = g.Has("name"); in.NameSet {
		if s, has, stringErr := g.String("name"); stringErr != nil {
			return nil, stringErr
		} else if has {
			if textErr := input.Text(s, "group.name", input.MaxNameLength); textErr != nil {
				return nil, textErr
			}
			in.Name = &s
		}
	}
	if in.DisplaynameSet = g.Has("displayname"); in.DisplaynameSet {
		in.Displayname = map[string]string{}
		if dv := g.M["displayname"]; dv != nil {
			d, asObjectErr := input.AsObject(dv, "group.displayname")
			if asObjectErr != nil {
				return nil, asObjectErr
			}
			for culture, val := range d.M {
				at := d.At(culture)
				if cultureErr := input.Culture(culture, at); cultureErr != nil {
					return nil, cultureErr
				}
				if val == nil {
					continue // a null culture is no text for that culture
				}
				s, ok := val.(string)
				if !ok {
					return nil, errors.TypeMismatch(at, "string")
				}
				if textErr := input.Text(s, at, input.MaxNameLength); textErr != nil {
					return nil, textErr
				}
				in.Displayname[culture] = s
			}
		}
	}
	if optionalTextErr := optionalText(g, "comment", MaxCommentLength, &in.Comment, &in.CommentSet, input.LongText); optionalTextErr != nil {
		return nil, optionalTextErr
	}
	if optionalTextErr := optionalText(g, "authorization_info", MaxCommentLength, &in.AuthorizationInfo,
		&in.AuthorizationInfoSet, input.LongText); optionalTextErr != nil {
		return nil, optionalTextErr
	}
	if optionalTextErr := optionalText(g, "reference", input.MaxRefLength, &in.Reference, &in.ReferenceSet, input.Text); optionalTextErr != nil {
		return nil, optionalTextErr
	}
	if optionalTextErr := optionalText(g, "color", colorLength, &in.Color, &in.ColorSet, CheckColor); optionalTextErr != nil {
		return nil, optionalTextErr
	}
	var frontendPrefsErr error
	if in.FrontendPrefs, in.FrontendPrefsSet, frontendPrefsErr = g.OptionalFrontendPrefs(); frontendPrefsErr != nil {
		return nil, frontendPrefsErr
	}
	if in.IsCreate() && !hasName(in) {
		return nil, errors.AttributeExpected("group.name")
	}

	if in.Grants, err = acl.DecodeGrants(top, rights.GroupACLRights, "a group always has an owner"); err != nil {
		return nil, err
	}
	return in, nil
}

// hasName: a group needs a name or a displayname in at least one culture.
func hasName(in *Input) bool { return in.Name != nil || len(in.Displayname) > 0 }

func optionalText(o input.Object, key string, max int, dst **string, set *bool,
	check func(s, path string, max int) error) error {
	if *set = o.Has(key); !*set {
		return nil
	}
	s, has, err := o.String(key)
	if err != nil || !has {
		return err
	}
	if err := check(s, o.At(key), max); err != nil {
		return err
	}
	*dst = &s
	return nil
}

// colorLength is the length of a colour: RRGGBB.
const colorLength = 6

// CheckColor validates a group's colour at path: six hexadecimal digits,
// RRGGBB without "#" (as Navixy writes a tracker group's colour).
func CheckColor(s, path string, _ int) error {
	if len(s) != colorLength {
		return errors.InvalidValue(path, `RRGGBB expected, six hexadecimal digits without "#", e.g. FF6DDC`)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return errors.InvalidValue(path, `RRGGBB expected, six hexadecimal digits without "#", e.g. FF6DDC`)
		}
	}
	return nil
}
