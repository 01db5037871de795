package object

import (
	"encoding/json"
	"strconv"
	"time"
)

// The item format of /api/v1/object, in easydb's shape:
//
//	{"_basetype": "object",
//	 "object": {"_id", "_version", "kind", "name", "reference", "attributes",
//	            "created_timestamp", "last_updated_timestamp"},
//	 "_group": {"_id": N} or null}
//
// Written by hand: the attributes pass through as stored.

// TimeFormat is how timestamps are written: RFC 3339 with seconds, UTC.
const TimeFormat = time.RFC3339

// MarshalJSON writes o as an item of /api/v1/object.
func (o *Object) MarshalJSON() ([]byte, error) {
	return o.appendJSON(make([]byte, 0, 256+len(o.Attributes))), nil
}

func (o *Object) appendJSON(b []byte) []byte {
	b = append(b, `{"_basetype":"object","object":{"_id":`...)
	b = strconv.AppendInt(b, o.ID, 10)
	b = append(b, `,"_version":`...)
	b = strconv.AppendInt(b, o.Version, 10)
	b = append(b, `,"kind":`...)
	b = appendString(b, o.Kind)
	b = append(b, `,"name":`...)
	b = appendString(b, o.Name)
	b = append(b, `,"reference":`...)
	if o.Reference == nil {
		b = append(b, "null"...)
	} else {
		b = appendString(b, *o.Reference)
	}
	b = append(b, `,"attributes":`...)
	if len(o.Attributes) == 0 {
		b = append(b, "{}"...)
	} else {
		b = append(b, o.Attributes...)
	}
	b = append(b, `,"created_timestamp":"`...)
	b = o.CreatedAt.UTC().AppendFormat(b, TimeFormat)
	b = append(b, `","last_updated_timestamp":"`...)
	b = o.UpdatedAt.UTC().AppendFormat(b, TimeFormat)
	b = append(b, `"},"_group":`...)
	if o.GroupID == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"_id":`...)
		b = strconv.AppendInt(b, o.GroupID, 10)
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always encodes
	return append(b, q...)
}

// mustJSON is o's item format, for the audit trail.
func mustJSON(o *Object) json.RawMessage { return o.appendJSON(nil) }
