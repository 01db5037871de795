package acl

import "encoding/json"

// Ref is a user or a group in easydb's short format, as _owner, _acl[].who
// and _groups show them: Kind and ID identify it, the rest is for display.
// Groups and users share it.
type Ref struct {
	Kind        string  // "user" or "group"
	ID          int64   //
	Name        *string // a group's name or a user's login; nil: none
	Type        string  // the group's or the user's type
	Displayname string  // a user's _generated_displayname
	// GroupDisplayname is a group's culture map as JSON.
	GroupDisplayname json.RawMessage
}

type refOut struct {
	Basetype string    `json:"_basetype"`
	User     *userRef  `json:"user,omitempty"`
	Group    *groupRef `json:"group,omitempty"`
}

type userRef struct {
	ID          int64   `json:"_id"`
	Login       *string `json:"login"`
	Type        string  `json:"type"`
	Displayname string  `json:"_generated_displayname"`
}

type groupRef struct {
	ID          int64           `json:"_id"`
	Name        *string         `json:"name"`
	Type        string          `json:"type"`
	Displayname json.RawMessage `json:"_displayname,omitempty"`
}

// MarshalJSON writes r in short format: {"_basetype":"user","user":{...}}
// or {"_basetype":"group","group":{...}}.
func (r Ref) MarshalJSON() ([]byte, error) {
	if r.Kind == "group" {
		return json.Marshal(refOut{Basetype: "group", Group: &groupRef{r.ID, r.Name, r.Type, r.GroupDisplayname}})
	}
	return json.Marshal(refOut{Basetype: "user", User: &userRef{r.ID, r.Name, r.Type, r.Displayname}})
}
