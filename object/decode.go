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
