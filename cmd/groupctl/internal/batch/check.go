package batch

import (
	"encoding/json"
	"strings"

	"github.com/groupd/groupd/client"
	apierrors "github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/group"
	"github.com/groupd/groupd/user"
	"github.com/groupd/groupd/web"
)

// dryRunCheck finds, without the server, what the server would refuse of one
// write item: its shape and values, checked by the server's own decoders
// (web, group, user: the same code, so the same rules and codes), and a
// name, displayname, reference or login that another entry on the server
// holds. A dry run thus fails the items a real run fails; what it cannot
// see is what only the server's state decides (rights, and entries written
// by someone else after the file was read).
func (im *Importer) dryRunCheck(kind Kind, ch *change, curID int64) *client.Error {
	body := client.RawArray([]json.RawMessage{withStandInIDs(ch).encode(kind)})
	v, err := web.DecodeValue(body, "body")
	if err == nil {
		if kind == KindUser {
			_, err = user.DecodeBody(v, false)
		} else {
			_, err = group.DecodeBody(v, false)
		}
	}
	if err != nil {
		e := apierrors.From(err)
		ce := &client.Error{Realm: string(e.Realm), Code: e.Code, Description: e.Description,
			Parameters: map[string]string{}}
		for k, v := range e.Parameters {
			if k != "index" { // the position in a request of one
				ce.Parameters[k] = v
			}
		}
		return ce
	}
	taken := func(constraint string, holder int64) *client.Error {
		if holder == 0 || holder == curID {
			return nil
		}
		return apiError("error.user.integrity_constraint_violation", "constraint", constraint,
			"description", "another entry on the server has it")
	}
	str := func(attr string) (string, bool) {
		s, ok := ch.fields[attr].(*string)
		if ok && s != nil {
			return *s, true
		}
		return "", false
	}
	if kind == KindUser {
		if login, ok := str("login"); ok {
			if e := taken("user.login", userID(im.uix.byLogin[strings.ToLower(login)])); e != nil {
				return e
			}
		}
		if ref, ok := str("reference"); ok {
			return taken("user.reference", userID(im.uix.byRef[ref]))
		}
		return nil
	}
	if name, ok := str("name"); ok {
		if e := taken("group.name", groupID(im.gix.byName[name])); e != nil {
			return e
		}
	}
	if ref, ok := str("reference"); ok {
		if e := taken("group.reference", groupID(im.gix.byRef[ref])); e != nil {
			return e
		}
	}
	if dn, ok := ch.fields["displayname"].(map[string]string); ok {
		for _, c := range sortedKeys(dn) {
			if e := taken("group.displayname", groupID(im.gix.byDN[c+"\x00"+dn[c]])); e != nil {
				return e
			}
		}
	}
	return nil
}

func groupID(g *client.Group) int64 {
	if g == nil {
		return 0
	}
	return g.Group.ID
}

func userID(u *client.User) int64 {
	if u == nil {
		return 0
	}
	return u.User.ID
}

// withStandInIDs is ch with the dry run's stand-in ids (negative: groups the
// file creates) in _groups made positive, as the real run's ids will be.
func withStandInIDs(ch *change) *change {
	refs, ok := ch.top["_groups"].([]map[string]any)
	if !ok {
		return ch
	}
	c := *ch
	c.top = map[string]any{}
	for k, v := range ch.top {
		c.top[k] = v
	}
	out := make([]map[string]any, len(refs))
	for i, r := range refs {
		out[i] = r
		if g, ok := r["group"].(map[string]int64); ok && g["_id"] < 0 {
			out[i] = map[string]any{"_basetype": "group", "group": map[string]int64{"_id": -g["_id"]}}
		}
	}
	c.top["_groups"] = out
	return &c
}
