package policy

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/groupd/groupd/rights"
)

// refGrounds are the rules that grant right on the group obj to p each on
// its own, by the reference of reference_test.go, in Explain's order and
// notation ("rule", "acl:<index>/<through group>", "owner/<through group>").
func refGrounds(p *Principal, right string, obj *Object, now time.Time) []string {
	bit := refBits[right]
	_, root := p.SystemRights["system.root"]
	var out []string
	if root {
		out = append(out, RuleRoot)
	}
	bag := right == "bag_read" || right == "bag_write" || right == "bag_delete"
	if refOwns(p, obj) && bag {
		through := obj.OwnerGroupID
		if obj.OwnerUserID != 0 && obj.OwnerUserID == p.UserID {
			through = 0
		}
		out = append(out, fmt.Sprintf("%s/%d", RuleOwner, through))
	}
	if right == "bag_read" && obj.GroupType == "easydb" && refContains(p.Groups, obj.ID) {
		out = append(out, RuleMember)
	}
	globalRead, _ := p.SystemRights["system.group"]["global_custom_bag_read"].(bool)
	custom := strings.HasPrefix(obj.GroupType, "custom-") && len(obj.GroupType) > len("custom-")
	if right == "bag_read" && globalRead && custom && !root {
		out = append(out, RuleGlobalCustomBagRead)
	}
	for i := range obj.ACL {
		if refEntryGrants(p, &obj.ACL[i], bit, now) {
			out = append(out, fmt.Sprintf("%s:%d/%d", RuleACL, i, obj.ACL[i].WhoGroupID))
		}
	}
	return out
}

func groundStrings(gs []Ground) []string {
	var out []string
	for _, g := range gs {
		switch g.Rule {
		case RuleOwner:
			out = append(out, fmt.Sprintf("%s/%d", g.Rule, g.ThroughGroupID))
		case RuleACL:
			out = append(out, fmt.Sprintf("%s:%d/%d", g.Rule, g.ACLIndex, g.ThroughGroupID))
		default:
			out = append(out, g.Rule)
		}
	}
	return out
}

// TestExplainAgreesWithEngine is the property test of the explanation: on
// 5,000 random worlds whose object is a group, for every ACL right,
// Explain's Granted is the Engine's own decision (Can) and the reference's,
// and its grounds are exactly the rules that the reference finds granting
// the right each on its own: the owner (and through which group), the
// membership, the system rights, and each ACL entry in effect that names
// the principal (and through which group).
func TestExplainAgreesWithEngine(t *testing.T) {
	e := newTestEngine(t)
	r := rand.New(rand.NewSource(20261201))
	var worlds, grounds, granted, refused, viaGroup int
	for worlds < 5_000 {
		w := randomWorld(r)
		obj := w.objects[0]
		if obj.Kind != "group" {
			continue
		}
		worlds++
		p := w.principals[0]
		ex, err := e.Explain(p, obj)
		if err != nil {
			t.Fatalf("Explain: %v\n%s", err, w)
		}
		if len(ex) != len(rights.ACLRightNames) {
			t.Fatalf("Explain gave %d rights, want %d", len(ex), len(rights.ACLRightNames))
		}
		for i, re := range ex {
			right := rights.ACLRightNames[i]
			can, err := e.Can(p, right, obj)
			if err != nil || re.Right != right || re.Granted != can || can != refCan(p, right, obj, refNow) {
				t.Fatalf("%s: Explain says %+v, Can says %v, %v; reference %v\n%s", right, re, can, err,
					refCan(p, right, obj, refNow), w)
			}
			got, want := groundStrings(re.Grounds), refGrounds(p, right, obj, refNow)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: grounds %q, reference %q\n%s", right, got, want, w)
			}
			grounds += len(got)
			if can {
				granted++
			} else {
				refused++
			}
			for _, g := range re.Grounds {
				if g.ThroughGroupID != 0 {
					viaGroup++
				}
			}
		}
	}
	// Vacuous worlds (no grant, no refusal, no ground through a group)
	// would prove nothing.
	if granted == 0 || refused == 0 || viaGroup == 0 {
		t.Fatalf("%d granted, %d refused, %d grounds through a group: the worlds do not exercise the explanation",
			granted, refused, viaGroup)
	}
	t.Logf("%d worlds: %d rights granted, %d refused, %d grounds (%d through a group)", worlds, granted, refused,
		grounds, viaGroup)
}

// TestExplainRefusals: Explain makes no explanation without a principal or
// a group.
func TestExplainRefusals(t *testing.T) {
	e := newTestEngine(t)
	if _, err := e.Explain(nil, group("easydb")); err == nil {
		t.Error("Explain with no principal: no error")
	}
	if _, err := e.Explain(principal(), user()); err == nil {
		t.Error("Explain on a user: no error")
	}
	if _, err := e.Explain(principal(), nil); err == nil {
		t.Error("Explain on nil: no error")
	}
}
