package object

import (
	"encoding/json"
	"strconv"

	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/input"
)

// decodeItem reads one item of a PUT or POST body (see encode.go for the
// format). On PUT (createOnly) an item with an _id is refused; on POST an
// item without one is a create, as for groups. The timestamps are read-only:
// accepted and ignored, so that an item read with GET can be sent back.
func decodeItem(v any, index int, createOnly bool) (*Input, error) {
	top, err := input.AsObject(v, "body["+strconv.Itoa(index)+"]")
	if err != nil {
		return nil, err
	}
	top.Path = "" // attribute paths are relative to the item, as easydb names them
	if onlyErr := top.Only("_basetype", "object", "_group"); onlyErr != nil {
		return nil, onlyErr
	}
	if bt, has, stringErr := top.String("_basetype"); stringErr != nil {
		return nil, stringErr
	} else if has && bt != "object" {
		return nil, errors.InvalidValue("_basetype", `must be "object"`)
	}
	o, err := top.Object("object")
	if err != nil {
		return nil, err
	}
	if onlyErr := o.Only("_id", "_version", "kind", "name", "reference", "attributes", "created_timestamp",
		"last_updated_timestamp"); onlyErr != nil {
		return nil, onlyErr
	}
	in := &Input{}
	if in.ID, _, err = o.ID("_id"); err != nil {
		return nil, err
	}
	if createOnly && in.ID != 0 {
		return nil, errors.AttributeNotAccepted("object._id")
	}
	if ver, has, int64Err := o.Int64("_version"); int64Err != nil {
		return nil, int64Err
	} else if has {
		if ver < 1 {
			return nil, errors.InvalidValue("object._version", "positive integer expected")
		}
		in.Version = ver
	}
	if !in.IsCreate() && in.Version == 0 {
		return nil, errors.AttributeExpected("object._version")
	}
	if k, _, stringErr := o.String("kind"); stringErr != nil {
		return nil, stringErr
	} else {
		in.Kind = k
	}
	if o.Has("name") {
		s, has, stringErr := o.String("name")
		if stringErr != nil {
			return nil, stringErr
		}
		if !has {
			return nil, errors.InvalidValue("object.name", "an object always has a name")
		}
		in.Name = &s
	}
	if in.ReferenceSet = o.Has("reference"); in.ReferenceSet {
		s, has, stringErr := o.String("reference")
		if stringErr != nil {
			return nil, stringErr
		}
		if has {
			in.Reference = &s
		}
	}
	if o.Has("attributes") {
		switch a := o.M["attributes"].(type) {
		case nil:
			in.Attributes = json.RawMessage("{}") // null: none
		case map[string]any:
			if storableErr := input.StorableJSON(a, "object.attributes"); storableErr != nil {
				return nil, storableErr
			}
			b, marshalErr := json.Marshal(a)
			if marshalErr != nil {
				return nil, errors.InvalidValue("object.attributes", marshalErr.Error())
			}
			in.Attributes = b
		default:
			return nil, errors.TypeMismatch("object.attributes", "object")
		}
	}
	if top.Has("_group") {
		zero := int64(0)
		in.Group = &zero
		if !top.IsNull("_group") {
			g, objectErr := top.Object("_group")
			if objectErr != nil {
				return nil, objectErr
			}
			if onlyErr := g.Only("_id"); onlyErr != nil {
				return nil, onlyErr
			}
			id, has, idErr := g.ID("_id")
			if idErr != nil {
				return nil, idErr
			}
			if !has {
				return nil, errors.AttributeExpected("_group._id")
			}
			in.Group = &id
		}
	}
	return in, validate(in)
}

// decodeMove reads the body of POST /api/v1/group/<id>/objects, a Move of
// group groupID: exactly one of {"add": [ids]} (into the group; with
// "skip_grouped": true objects already in another group stay there),
// {"remove": [ids]} (out of it; ids not in the group are skipped) and
// {"remove_all": true}; "kind" limits any of them to one kind.
func decodeMove(body any, groupID int64) (Move, error) {
	var m Move
	o, err := input.AsObject(body, "body")
	if err != nil {
		return m, err
	}
	o.Path = ""
	if onlyErr := o.Only("add", "remove", "remove_all", "kind", "skip_grouped"); onlyErr != nil {
		return m, onlyErr
	}
	var actions []string
	for _, key := range []string{"add", "remove"} {
		if o.M[key] == nil {
			continue
		}
		actions = append(actions, key)
		arr, arrayErr := input.AsArray(o.M[key], key)
		if arrayErr != nil {
			return m, arrayErr
		}
		if len(arr) > MaxMove {
			return m, errors.InvalidValue(key, "at most "+strconv.Itoa(MaxMove)+" object ids per request")
		}
		m.IDs = make([]int64, 0, len(arr))
		for i, item := range arr {
			at := key + "[" + strconv.Itoa(i) + "]"
			id, int64Err := input.Int64(item, at)
			if int64Err != nil {
				return m, int64Err
			}
			if id <= 0 {
				return m, errors.InvalidValue(at, "positive integer expected")
			}
			m.IDs = append(m.IDs, id)
		}
		if key == "add" {
			m.To = groupID
		} else {
			m.OnlyFrom = groupID
		}
	}
	if all, _, boolErr := o.Bool("remove_all"); boolErr != nil {
		return m, boolErr
	} else if all {
		actions = append(actions, "remove_all")
		m.From = groupID
	}
	if len(actions) != 1 {
		return m, errors.InvalidValue("body", `exactly one of "add", "remove" and "remove_all": true expected`)
	}
	if m.Kind, _, err = o.String("kind"); err != nil {
		return m, err
	}
	if m.Kind != "" && !ValidKind(m.Kind) {
		return m, errors.InvalidValue("kind", `a namespaced kind expected, such as "noko.project"`)
	}
	if m.SkipGrouped, _, err = o.Bool("skip_grouped"); err != nil {
		return m, err
	}
	if m.SkipGrouped && m.To == 0 {
		return m, errors.InvalidValue("skip_grouped", `only with "add"`)
	}
	return m, nil
}
