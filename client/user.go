package client

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
)

// User is a user in easydb's full format, as the server answers it.
type User struct {
	Basetype        string              `json:"_basetype"`
	User            UserBody            `json:"user"`
	Owner           *ShortRef           `json:"_owner,omitempty"`
	ACL             json.RawMessage     `json:"_acl,omitempty"`
	SystemRights    json.RawMessage     `json:"_system_rights,omitempty"`
	Groups          []ShortRef          `json:"_groups"`
	Emails          []Email             `json:"_emails"`
	HasACL          bool                `json:"_has_acl"`
	GeneratedRights map[string]struct{} `json:"_generated_rights,omitempty"`
}

// UserBody is the "user" object of the full format. The text attributes
// groupctl reads and writes by name are in Text (login, first_name, ...).
type UserBody struct {
	ID                   int64           `json:"_id"`
	Version              int64           `json:"_version"`
	Type                 string          `json:"type"`
	Login                *string         `json:"login"`
	FirstName            *string         `json:"first_name"`
	LastName             *string         `json:"last_name"`
	Displayname          *string         `json:"displayname"`
	FrontendLanguage     *string         `json:"frontend_language"`
	Reference            *string         `json:"reference"`
	LoginDisabled        bool            `json:"login_disabled"`
	FrontendPrefs        json.RawMessage `json:"frontend_prefs"`
	GeneratedDisplayname string          `json:"_generated_displayname"`
	Created              string          `json:"created_timestamp"`
	Updated              string          `json:"last_updated_timestamp"`
	Company              *string         `json:"company"`
	Department           *string         `json:"department"`
	Phone                *string         `json:"phone"`
	Street               *string         `json:"street"`
	HouseNumber          *string         `json:"house_number"`
	AddressSupplement    *string         `json:"address_supplement"`
	PostalCode           *string         `json:"postal_code"`
	Town                 *string         `json:"town"`
	Country              *string         `json:"country"`
	Remarks              *string         `json:"remarks"`
}

// UserTextAttributes are the user's text attributes that a client writes by
// name, in the order groupctl's CSV writes them.
var UserTextAttributes = []string{"login", "first_name", "last_name", "displayname", "reference",
	"frontend_language", "company", "department", "phone", "street", "house_number", "address_supplement",
	"postal_code", "town", "country", "remarks"}

// Text returns the text attribute named attr (one of UserTextAttributes).
func (u *UserBody) Text(attr string) *string {
	switch attr {
	case "login":
		return u.Login
	case "first_name":
		return u.FirstName
	case "last_name":
		return u.LastName
	case "displayname":
		return u.Displayname
	case "reference":
		return u.Reference
	case "frontend_language":
		return u.FrontendLanguage
	case "company":
		return u.Company
	case "department":
		return u.Department
	case "phone":
		return u.Phone
	case "street":
		return u.Street
	case "house_number":
		return u.HouseNumber
	case "address_supplement":
		return u.AddressSupplement
	case "postal_code":
		return u.PostalCode
	case "town":
		return u.Town
	case "country":
		return u.Country
	case "remarks":
		return u.Remarks
	}
	return nil
}

// Email is one of a user's addresses.
type Email struct {
	Email             string `json:"email"`
	UseForLogin       bool   `json:"use_for_login"`
	UseForEmail       bool   `json:"use_for_email"`
	NeedsConfirmation bool   `json:"needs_confirmation"`
}

// Label is the user's login, else its generated display name, else its id.
func (u *User) Label() string {
	if u.User.Login != nil {
		return *u.User.Login
	}
	if u.User.GeneratedDisplayname != "" {
		return u.User.GeneratedDisplayname
	}
	return "#" + itoa(u.User.ID)
}

// GroupIDs is the ids of the user's static groups.
func (u *User) GroupIDs() []int64 {
	ids := make([]int64, 0, len(u.Groups))
	for _, g := range u.Groups {
		if g.Group != nil {
			ids = append(ids, g.Group.ID)
		}
	}
	return ids
}

// UserFilter selects users in ListUsers.
type UserFilter struct {
	Limit, Offset int
	GroupIDs      []int64  // users in at least one of these groups
	Types         []string // user types
}

func (f UserFilter) query() url.Values {
	q := url.Values{}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.Offset > 0 {
		q.Set("offset", strconv.Itoa(f.Offset))
	}
	if len(f.GroupIDs) > 0 {
		s := make([]string, len(f.GroupIDs))
		for i, id := range f.GroupIDs {
			s[i] = itoa(id)
		}
		q.Set("groupids", strings.Join(s, ","))
	}
	if len(f.Types) > 0 {
		q.Set("type", strings.Join(f.Types, ","))
	}
	return q
}

// ListUsers returns one page of the users the caller may read and the number
// of all matches.
func (c *Client) ListUsers(ctx context.Context, f UserFilter) ([]User, int, error) {
	var out []User
	h, err := c.get(ctx, request{method: "GET", path: "/api/v1/user", query: f.query(), out: &out})
	if err != nil {
		return nil, 0, err
	}
	return out, totalCount(h), nil
}

// AllUsers pages through every readable user matching f, c.Parallel pages
// at a time.
func (c *Client) AllUsers(ctx context.Context, f UserFilter, progress func(done, total int)) ([]User, error) {
	return allPages(ctx, c.Parallel, progress, func(ctx context.Context, offset int) ([]User, int, error) {
		page := f // a copy: pages are read concurrently
		page.Limit, page.Offset = MaxPage, offset
		return c.ListUsers(ctx, page)
	})
}

// GetUser returns the user with id.
func (c *Client) GetUser(ctx context.Context, id int64) (*User, error) {
	var out []User
	if _, err := c.get(ctx, request{method: "GET", path: idPath("/api/v1/user", id), out: &out}); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	return &out[0], nil
}

// CreateUsers sends PUT /api/v1/user (creates only).
func (c *Client) CreateUsers(ctx context.Context, items any) ([]User, error) {
	var out []User
	_, err := c.do(ctx, request{method: "PUT", path: "/api/v1/user", body: items, out: &out})
	return out, err
}

// WriteUsers sends POST /api/v1/user: items with an _id update, items without
// one create.
func (c *Client) WriteUsers(ctx context.Context, items any) ([]User, error) {
	var out []User
	_, err := c.do(ctx, request{method: "POST", path: "/api/v1/user", body: items, out: &out})
	return out, err
}

// DeleteUser deletes the user with id.
func (c *Client) DeleteUser(ctx context.Context, id int64) error {
	_, err := c.do(ctx, request{method: "DELETE", path: idPath("/api/v1/user", id)})
	return err
}

// MemberResult is what a membership change did to one user id: added,
// already_member, removed, not_member or not_found.
type MemberResult struct {
	ID     int64  `json:"_id"`
	Result string `json:"result"`
}

// Members returns a page of a group's members (users in short format) and
// their total number.
func (c *Client) Members(ctx context.Context, groupID int64, limit, offset int) ([]ShortRef, int, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if offset > 0 {
		q.Set("offset", strconv.Itoa(offset))
	}
	var out []ShortRef
	h, err := c.get(ctx, request{method: "GET", path: idPath("/api/v1/group", groupID) + "/members", query: q, out: &out})
	if err != nil {
		return nil, 0, err
	}
	return out, totalCount(h), nil
}

// ChangeMembers adds and removes users (by id) of a group, idempotently.
func (c *Client) ChangeMembers(ctx context.Context, groupID int64, add, remove []int64) ([]MemberResult, error) {
	body := map[string][]int64{}
	if len(add) > 0 {
		body["add"] = add
	}
	if len(remove) > 0 {
		body["remove"] = remove
	}
	var out []MemberResult
	_, err := c.do(ctx, request{method: "POST", path: idPath("/api/v1/group", groupID) + "/members", body: body, out: &out})
	return out, err
}
