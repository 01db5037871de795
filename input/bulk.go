package input

import (
	"strconv"

	"github.com/groupd/groupd/errors"
)

// Items reads a bulk body: an array whose items item decodes. An item's
// error carries its parameters.index.
func Items[T any](body any, item func(v any, index int) (T, error)) ([]T, error) {
	arr, err := AsArray(body, "body")
	if err != nil {
		return nil, err
	}
	items := make([]T, 0, len(arr))
	for i, v := range arr {
		it, err := item(v, i)
		if err != nil {
			return nil, errors.WithIndex(err, i)
		}
		items = append(items, it)
	}
	return items, nil
}

// Head is what every item of a bulk write starts with, whatever its
// resource: its position in the request and the row it updates. A
// resource's decoded item embeds it.
type Head struct {
	Index   int   // position in the request, for parameters.index
	ID      int64 // 0: a create
	Version int64 // 0: absent (a create's is 1)
}

// IsCreate reports whether the item creates a row.
func (h *Head) IsCreate() bool { return h.ID == 0 }

// BulkHead returns it, so that the write kernel finds the head of an item
// that embeds it (bulk.Targets).
func (h *Head) BulkHead() Head { return *h }

// BulkItem is the head of one item of a bulk body in easydb's full format,
// {"_basetype": <basetype>, <basetype>: {"_id": ..., "_version": ..., ...}, ...}.
type BulkItem struct {
	Top  Object // the item; its paths are relative to it, as easydb names attributes
	Body Object // the <basetype> object
	Head
}

// DecodeBulkItem reads the head of item index of a bulk body: topKeys are
// the attributes the item may have, bodyKeys those of the <basetype>
// object. On PUT (createOnly) an item with an _id is refused; an update
// needs a positive _version.
func DecodeBulkItem(v any, index int, basetype string, createOnly bool, topKeys, bodyKeys []string) (BulkItem, error) {
	it := BulkItem{Head: Head{Index: index}}
	var err error
	if it.Top, err = AsObject(v, "body["+strconv.Itoa(index)+"]"); err != nil {
		return it, err
	}
	it.Top.Path = ""
	if err = it.Top.Only(topKeys...); err != nil {
		return it, err
	}
	if bt, has, btErr := it.Top.String("_basetype"); btErr != nil {
		return it, btErr
	} else if has && bt != basetype {
		return it, errors.InvalidValue("_basetype", `must be "`+basetype+`"`)
	}
	if it.Body, err = it.Top.Object(basetype); err != nil {
		return it, err
	}
	if err = it.Body.Only(bodyKeys...); err != nil {
		return it, err
	}
	if it.ID, _, err = it.Body.ID("_id"); err != nil {
		return it, err
	}
	if createOnly && it.ID != 0 {
		return it, errors.AttributeNotAccepted(basetype + "._id")
	}
	ver, has, err := it.Body.Int64("_version")
	if err != nil {
		return it, err
	}
	if has && ver < 1 {
		return it, errors.InvalidValue(basetype+"._version", "positive integer expected")
	}
	if it.Version = ver; it.ID != 0 && it.Version == 0 {
		return it, errors.AttributeExpected(basetype + "._version")
	}
	return it, nil
}
