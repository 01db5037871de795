package group

import (
	"bytes"
	"encoding/json"
	"math/rand"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/groupd/groupd/acl"
	"github.com/groupd/groupd/input"
	"github.com/groupd/groupd/rights"
)

// TestEncoderMatchesEncodingJSON: the hand-written full format is byte for
// byte what encoding/json writes from plain structs, for random groups with
// every field set or not and strings that need escaping (HTML characters,
// control characters, non-ASCII, invalid UTF-8, U+2028), and raw JSON as
// PostgreSQL's jsonb prints it (spaces after colons and commas).
func TestEncoderMatchesEncodingJSON(t *testing.T) {
	seed := time.Now().UnixNano()
	r := rand.New(rand.NewSource(seed))
	for i := 0; i < 5000; i++ {
		g := randomGroup(r)
		want, err := referenceJSON(g)
		if err != nil {
			t.Fatal(err)
		}
		got, err := g.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("seed %d group %d:\n got %s\nwant %s", seed, i, got, want)
		}
		if !json.Valid(got) {
			t.Fatalf("seed %d: invalid JSON %s", seed, got)
		}
	}
	// the answer of a handler: the groups as one array, kept encodings
	// (a write's) and fresh ones alike
	gs := []*Group{randomGroup(r), randomGroup(r), randomGroup(r)}
	kept, _ := gs[1].MarshalJSON()
	gs[1].encoded = kept
	rec := httptest.NewRecorder()
	if err := writeGroups(rec, gs); err != nil {
		t.Fatal(err)
	}
	var back []json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &back); err != nil || len(back) != 3 ||
		rec.Header().Get("Content-Length") != strconv.Itoa(rec.Body.Len()) {
		t.Fatalf("writeGroups: %v %d items, Content-Length %s for %d bytes", err, len(back),
			rec.Header().Get("Content-Length"), rec.Body.Len())
	}
	for i, g := range gs {
		want, _ := referenceJSON(g)
		if !bytes.Equal(back[i], want) {
			t.Fatalf("item %d:\n got %s\nwant %s", i, back[i], want)
		}
	}
	rec = httptest.NewRecorder()
	if writeGroups(rec, nil); rec.Body.String() != "[]\n" || rec.Header().Get("Content-Length") != "3" {
		t.Fatalf("no groups: %q", rec.Body.String())
	}
}

var tricky = []string{"", "plain", "with space", `quote"d`, `back\\slash`, "<b>&amp;</b>", "tab\there", "nl\n", "\x00\x01\x1f",
	"Grüße", "日本語", "\u2028\u2029", "bad\xffutf8", "\x7f", "emoji 😀", "/slash/"}

func randomString(r *rand.Rand) string {
	if r.Intn(3) == 0 {
		return tricky[r.Intn(len(tricky))] + tricky[r.Intn(len(tricky))]
	}
	return tricky[r.Intn(len(tricky))]
}

func randomStringPtr(r *rand.Rand) *string {
	if r.Intn(3) == 0 {
		return nil
	}
	s := randomString(r)
	return &s
}

// randomRaw is JSON as jsonb prints it, or compact, or with other blanks.
func randomRaw(r *rand.Rand) json.RawMessage {
	v := map[string]any{randomString(r): map[string]any{}, "n": r.Intn(100), "list": []any{randomString(r), true, nil, 1.5}}
	b, _ := json.Marshal(v)
	switch r.Intn(3) {
	case 0:
		var out bytes.Buffer
		json.Indent(&out, b, "", "\t")
		return out.Bytes()
	case 1:
		b = bytes.ReplaceAll(b, []byte(`":`), []byte(`": `))
		return bytes.ReplaceAll(b, []byte(`,"`), []byte(`, "`))
	}
	return b
}

func randomTime(r *rand.Rand) time.Time {
	return time.Unix(r.Int63n(4e9), r.Int63n(1e9)).In(time.FixedZone("x", 3600*(r.Intn(5)-2)))
}

func randomRef(r *rand.Rand) acl.Ref {
	if r.Intn(2) == 0 {
		ref := acl.Ref{Kind: "group", ID: r.Int63n(1000) + 1, Name: randomStringPtr(r), Type: "easydb"}
		if r.Intn(2) == 0 {
			ref.GroupDisplayname = randomRaw(r)
		}
		return ref
	}
	return acl.Ref{Kind: "user", ID: r.Int63n(1000) + 1, Name: randomStringPtr(r), Type: "easydb", Displayname: randomString(r)}
}

func randomGroup(r *rand.Rand) *Group {
	g := &Group{ID: r.Int63n(1 << 40), Version: r.Int63n(100) + 1, Type: []string{"easydb", "system", "custom-x"}[r.Intn(3)],
		Name: randomStringPtr(r), Comment: randomStringPtr(r), Reference: randomStringPtr(r),
		AuthorizationInfo: randomStringPtr(r), Color: randomStringPtr(r), CreatedAt: randomTime(r), UpdatedAt: randomTime(r),
		Owner: randomRef(r), Generated: rights.Mask(r.Intn(256))}
	if r.Intn(4) > 0 {
		g.Displayname = map[string]string{}
		for j := r.Intn(4); j > 0; j-- {
			g.Displayname[randomString(r)] = randomString(r)
		}
	}
	if r.Intn(2) == 0 {
		g.FrontendPrefs = randomRaw(r)
	}
	if r.Intn(2) == 0 {
		g.SystemRights = rights.Map{"system.group": rights.Params{}}
	}
	for j := r.Intn(6); j > 0; j-- {
		e := acl.Entry{ID: r.Int63n(1e6), Active: r.Intn(2) == 0, Created: randomTime(r)}
		var who acl.Ref
		switch r.Intn(4) {
		case 0:
			e.WhoOwner = true
		case 1:
			// no subject
		default:
			who = randomRef(r)
		}
		if r.Intn(2) == 0 {
			e.Stored = randomRaw(r)
		} else {
			e.Rights = rights.Map{"bag_read": rights.Params{}}
		}
		if r.Intn(3) == 0 {
			from := randomTime(r)
			e.From = &from
		}
		if r.Intn(3) == 0 {
			to := randomTime(r)
			e.To = &to
		}
		g.ACL = append(g.ACL, e)
		g.ACLWho = append(g.ACLWho, who)
	}
	return g
}

// --- the reference: encoding/json from plain structs -------------------------

type fullFormat struct {
	Basetype        string           `json:"_basetype"`
	Group           groupBody        `json:"group"`
	Owner           shortFormat      `json:"_owner"`
	ACL             *[]aclOut        `json:"_acl,omitempty"`           // nil without bag_write
	SystemRights    *rights.Map      `json:"_system_rights,omitempty"` // nil without bag_write
	HasACL          bool             `json:"_has_acl"`
	GeneratedRights map[string]empty `json:"_generated_rights"`
}

type empty struct{}

type groupBody struct {
	ID                int64             `json:"_id"`
	Version           int64             `json:"_version"`
	Type              string            `json:"type"`
	Name              *string           `json:"name"`
	Displayname       map[string]string `json:"displayname"`
	Comment           *string           `json:"comment"`
	Reference         *string           `json:"reference"`
	FrontendPrefs     json.RawMessage   `json:"frontend_prefs"`
	AuthorizationInfo *string           `json:"authorization_info"`
	Color             *string           `json:"color"`
	Created           string            `json:"created_timestamp"`
	Updated           string            `json:"last_updated_timestamp"`
}

type aclOut struct {
	ID          int64           `json:"_id"`
	Who         any             `json:"who"`
	Rights      json.RawMessage `json:"rights"`
	Active      bool            `json:"active"`
	When        *whenOut        `json:"when,omitempty"`
	DateCreated string          `json:"date_created"`
}

type whenOut struct {
	From *string `json:"from"`
	To   *string `json:"to"`
}

// shortFormat is a user or group in easydb's short format: exactly one of
// User and Group is set.
type shortFormat struct {
	Basetype string      `json:"_basetype"`
	User     *userShort  `json:"user,omitempty"`
	Group    *groupShort `json:"group,omitempty"`
}

type userShort struct {
	ID                   int64   `json:"_id"`
	Login                *string `json:"login"`
	Type                 string  `json:"type"`
	GeneratedDisplayname string  `json:"_generated_displayname"`
}

type groupShort struct {
	ID          int64           `json:"_id"`
	Name        *string         `json:"name"`
	Type        string          `json:"type"`
	Displayname json.RawMessage `json:"_displayname,omitempty"`
}

type ownerMarker struct {
	Owner bool `json:"_owner"`
}

func refTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// ShortFormat is r as easydb writes it in _owner, _acl[].who and a user's
// _groups.
func refShort(r acl.Ref) shortFormat {
	if r.Kind == "group" {
		return shortFormat{Basetype: "group", Group: &groupShort{ID: r.ID, Name: r.Name, Type: r.Type,
			Displayname: r.GroupDisplayname}}
	}
	return shortFormat{Basetype: "user", User: &userShort{ID: r.ID, Login: r.Name, Type: r.Type,
		GeneratedDisplayname: r.Displayname}}
}

// referenceJSON is the full format as encoding/json writes it from plain
// structs: the encoder before encode.go, kept as the reference.
func referenceJSON(g *Group) ([]byte, error) {
	out := fullFormat{
		Basetype: "group",
		Group: groupBody{
			ID: g.ID, Version: g.Version, Type: g.Type, Name: g.Name, Displayname: g.Displayname,
			Comment: g.Comment, Reference: g.Reference, FrontendPrefs: g.FrontendPrefs,
			AuthorizationInfo: g.AuthorizationInfo, Color: g.Color, Created: refTime(g.CreatedAt), Updated: refTime(g.UpdatedAt),
		},
		Owner:           refShort(g.Owner),
		SystemRights:    &g.SystemRights,
		HasACL:          len(g.ACL) > 0,
		GeneratedRights: map[string]empty{},
	}
	if out.Group.Displayname == nil {
		out.Group.Displayname = map[string]string{}
	}
	entries := make([]aclOut, 0, len(g.ACL))
	out.ACL = &entries
	for i, e := range g.ACL {
		a := aclOut{ID: e.ID, Rights: e.Stored, Active: e.Active, DateCreated: refTime(e.Created)}
		if a.Rights == nil {
			b, err := e.Rights.MarshalJSON()
			if err != nil {
				return nil, err
			}
			a.Rights = b
		}
		switch {
		case e.WhoOwner:
			a.Who = ownerMarker{Owner: true}
		case i < len(g.ACLWho) && g.ACLWho[i].ID != 0:
			a.Who = refShort(g.ACLWho[i])
		}
		if e.From != nil || e.To != nil {
			a.When = &whenOut{}
			if e.From != nil {
				s := e.From.UTC().Format(input.TimestampFormat)
				a.When.From = &s
			}
			if e.To != nil {
				s := e.To.UTC().Format(input.TimestampFormat)
				a.When.To = &s
			}
		}
		entries = append(entries, a)
	}
	if g.Generated&rights.MaskBagWrite == 0 {
		// bag_read alone does not show the group in full format
		out.ACL, out.SystemRights = nil, nil
	}
	for _, name := range g.GeneratedRights().Names() {
		out.GeneratedRights[name] = empty{}
	}
	return json.Marshal(out)
}

// TestWritePageMatchesWriteGroups: a listing's page, written from one
// buffer, is the answer writeGroups writes for the same groups, headers and
// body, for pages of 0 to 30 random groups.
func TestWritePageMatchesWriteGroups(t *testing.T) {
	r := rand.New(rand.NewSource(time.Now().UnixNano()))
	for i := 0; i < 200; i++ {
		groups := make([]*Group, r.Intn(31))
		for j := range groups {
			groups[j] = randomGroup(r)
		}
		want, got := httptest.NewRecorder(), httptest.NewRecorder()
		if err := writeGroups(want, groups); err != nil {
			t.Fatal(err)
		}
		if err := writePage(got, groups); err != nil {
			t.Fatal(err)
		}
		if got.Code != want.Code || !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
			t.Fatalf("%d groups: writePage wrote %d\n%s\nwriteGroups %d\n%s", len(groups), got.Code, got.Body, want.Code, want.Body)
		}
		for _, h := range []string{"Content-Type", "Content-Length"} {
			if got.Header().Get(h) != want.Header().Get(h) {
				t.Fatalf("%d groups: %s %q, writeGroups %q", len(groups), h, got.Header().Get(h), want.Header().Get(h))
			}
		}
	}
}
