package client

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// MaxPage is the largest page the server answers (limit 1000).
const MaxPage = 1000

// Group is a group in easydb's full format, as the server answers it.
type Group struct {
	Basetype        string              `json:"_basetype"`
	Group           GroupBody           `json:"group"`
	Owner           *ShortRef           `json:"_owner,omitempty"`
	ACL             json.RawMessage     `json:"_acl,omitempty"`
	SystemRights    json.RawMessage     `json:"_system_rights,omitempty"`
	HasACL          bool                `json:"_has_acl"`
	GeneratedRights map[string]struct{} `json:"_generated_rights,omitempty"`
}

// GroupBody is the "group" object of the full format.
type GroupBody struct {
	ID                int64             `json:"_id"`
	Version           int64             `json:"_version"`
	Type              string            `json:"type"`
	Name              *string           `json:"name"`
	Displayname       map[string]string `json:"displayname"`
	Comment           *string           `json:"comment"`
	Reference         *string           `json:"reference"`
	FrontendPrefs     json.RawMessage   `json:"frontend_prefs"`
	AuthorizationInfo *string           `json:"authorization_info"`
	Created           string            `json:"created_timestamp"`
	Updated           string            `json:"last_updated_timestamp"`
}

// Label is the group's name, else a displayname, else its id.
func (g *Group) Label() string {
	if g.Group.Name != nil {
		return *g.Group.Name
	}
	if d := FirstDisplayname(g.Group.Displayname); d != "" {
		return d
	}
	return "#" + itoa(g.Group.ID)
}

// FirstDisplayname is the en-US text of a culture map, else the text of the
// first culture in sorted order, else "".
func FirstDisplayname(m map[string]string) string {
	if s, ok := m["en-US"]; ok {
		return s
	}
	best := ""
	for c := range m {
		if best == "" || c < best {
			best = c
		}
	}
	return m[best]
}

// GroupFilter selects groups in ListGroups. Zero values select everything.
type GroupFilter struct {
	Limit     int      // 0: the server's default (1000)
	Offset    int      //
	Types     []string // easydb, system, custom-<name>
	Name      string   // substring of the name or a displayname, case-insensitive
	Reference *string  // exact
	Member    int64    // user id
}

func (f GroupFilter) query() url.Values {
	q := url.Values{}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.Offset > 0 {
		q.Set("offset", strconv.Itoa(f.Offset))
	}
	if len(f.Types) > 0 {
		q.Set("type", strings.Join(f.Types, ","))
	}
	if f.Name != "" {
		q.Set("name", f.Name)
	}
	if f.Reference != nil {
		q.Set("reference", *f.Reference)
	}
	if f.Member > 0 {
		q.Set("member", strconv.FormatInt(f.Member, 10))
	}
	return q
}

// ListGroups returns one page of the visible groups and the number of all
// matches (X-Total-Count; -1 when the server sent none).
func (c *Client) ListGroups(ctx context.Context, f GroupFilter) ([]Group, int, error) {
	var out []Group
	h, err := c.get(ctx, request{method: "GET", path: "/api/v1/group", query: f.query(), out: &out})
	if err != nil {
		return nil, 0, err
	}
	return out, totalCount(h), nil
}

// AllGroups pages through every visible group matching f (f.Limit and
// f.Offset are ignored), c.Parallel pages at a time, calling progress (may be
// nil) after each page.
func (c *Client) AllGroups(ctx context.Context, f GroupFilter, progress func(done, total int)) ([]Group, error) {
	return allPages(ctx, c.Parallel, progress, func(ctx context.Context, offset int) ([]Group, int, error) {
		page := f // a copy: pages are read concurrently
		page.Limit, page.Offset = MaxPage, offset
		return c.ListGroups(ctx, page)
	})
}

// allPages reads the first page, then the others (known from its total),
// workers at a time, and returns all items in order. A page that comes back
// full while more were expected than the total said is followed further, so
// that items added meanwhile are not lost.
func allPages[T any](ctx context.Context, workers int, progress func(done, total int),
	page func(context.Context, int) ([]T, int, error)) ([]T, error) {
	first, total, err := page(ctx, 0)
	if err != nil {
		return nil, err
	}
	all := first
	if progress != nil {
		progress(len(all), total)
	}
	if len(first) < MaxPage {
		return all, nil
	}
	if workers < 1 {
		workers = 1
	}
	offset := MaxPage
	for {
		// The pages up to the announced total, workers at a time.
		n := 1
		if total > offset {
			n = (total - offset + MaxPage - 1) / MaxPage
		}
		pages := make([][]T, n)
		errs := make([]error, n)
		next := make(chan int)
		var wg sync.WaitGroup
		for w := 0; w < min(workers, n); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					pages[i], _, errs[i] = page(ctx, offset+i*MaxPage)
				}
			}()
		}
		for i := 0; i < n; i++ {
			next <- i
		}
		close(next)
		wg.Wait()
		for i := range pages {
			if errs[i] != nil {
				return nil, errs[i]
			}
			all = append(all, pages[i]...)
			if progress != nil {
				progress(len(all), total)
			}
			if len(pages[i]) < MaxPage {
				return all, nil
			}
		}
		offset += n * MaxPage
	}
}

// GetGroup returns the group with id, or nil when there is none.
func (c *Client) GetGroup(ctx context.Context, id int64) (*Group, error) {
	var out []Group
	if _, err := c.get(ctx, request{method: "GET", path: idPath("/api/v1/group", id), out: &out}); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	return &out[0], nil
}

// CreateGroups creates groups with PUT /api/v1/group; each item is a group
// in full format (what json.Marshal makes of it), without _id.
func (c *Client) CreateGroups(ctx context.Context, items any) ([]Group, error) {
	var out []Group
	_, err := c.do(ctx, request{method: "PUT", path: "/api/v1/group", body: items, out: &out})
	return out, err
}

// WriteGroups sends POST /api/v1/group: items with an _id update (with
// _version = current + 1), items without one create.
func (c *Client) WriteGroups(ctx context.Context, items any) ([]Group, error) {
	var out []Group
	_, err := c.do(ctx, request{method: "POST", path: "/api/v1/group", body: items, out: &out})
	return out, err
}

// DeleteGroup deletes the group with id.
func (c *Client) DeleteGroup(ctx context.Context, id int64) error {
	_, err := c.do(ctx, request{method: "DELETE", path: idPath("/api/v1/group", id)})
	return err
}

// RawArray joins already encoded JSON items into one JSON array, ready to
// be passed as the items of a bulk call.
func RawArray(items []json.RawMessage) []byte {
	n := 2
	for _, it := range items {
		n += len(it) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, it...)
	}
	return append(b, ']')
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
