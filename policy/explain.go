package policy

import (
	"github.com/groupd/groupd/acl/entry"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/rights"
)

// The rules of model.conf's group matcher m that can grant a right, as an
// explanation names them.
const (
	RuleRoot                = "system.root"            // isRoot
	RuleOwner               = "owner"                  // owns
	RuleMember              = "member"                 // isEasydbMember
	RuleGlobalCustomBagRead = "global_custom_bag_read" // readsAllCustom
	RuleACL                 = "acl"                    // aclGrants
)

// Ground is one rule that grants a right on its own.
type Ground struct {
	Rule string
	// ACLIndex is, for RuleACL, the position of the granting entry in the
	// object's ACL; -1 otherwise.
	ACLIndex int
	// ThroughGroupID is the group of the principal's through which the rule
	// applies: the owning group (RuleOwner), the group an ACL entry names
	// (RuleACL); 0 when the rule names the principal's user itself or is
	// not about a subject (system.root, a system right).
	ThroughGroupID int64
}

// RightExplanation says whether a right is granted and by which rules.
// Granted is the Engine's own decision (Can); Grounds are the rules that
// grant the right each on its own, every one found by a Casbin decision on a
// question where only that rule can apply. Granted is true exactly when
// Grounds is not empty: Explain checks it.
type RightExplanation struct {
	Right   string
	Granted bool
	Grounds []Ground
}

// Explain says, for every ACL right (rights.ACLRightNames) of p on the group
// obj, whether Can grants it and which rules of model.conf do: system.root,
// ownership (by the user or through an owning group), membership of an
// "easydb" group, system.group's global_custom_bag_read, or an ACL entry
// (which one, and through which of p's groups). Each ground is itself an
// Enforce against model.conf on a narrowed question: the object reduced to
// the one attribute the rule reads (its owner, its type, one ACL entry) and
// the principal stripped of its system rights unless the rule is about them,
// so that no other rule can answer. An error means no explanation was made,
// including the case where the grounds and Can disagree, which would mean
// that this function no longer follows model.conf.
func (e *Engine) Explain(p *Principal, obj *Object) ([]RightExplanation, error) {
	if p == nil {
		return nil, errors.Errorf("policy: explain for no principal")
	}
	if obj == nil || obj.Kind != "group" {
		return nil, errors.Errorf("policy: explain asked on an object that is not a group")
	}
	now := e.now()
	// subjects: p without any system right, so that isRoot and
	// readsAllCustom never answer for it.
	subjects := &Principal{UserID: p.UserID, Login: p.Login, UserType: p.UserType, Groups: p.Groups,
		SystemGroups: p.SystemGroups}
	// rightsOnly: p's system rights and nothing else, so that no subject
	// rule (owner, member, ACL) answers for it.
	rightsOnly := &Principal{SystemRights: p.SystemRights}
	out := make([]RightExplanation, 0, len(rights.ACLRightNames))
	for _, right := range rights.ACLRightNames {
		granted, err := e.can(p, right, obj, now)
		if err != nil {
			return nil, err
		}
		ex := RightExplanation{Right: right, Granted: granted}
		add := func(rule string, aclIndex int, through int64, who *Principal, narrowed *Object) error {
			ok, err := e.can(who, right, narrowed, now)
			if err != nil {
				return err
			}
			if ok {
				ex.Grounds = append(ex.Grounds, Ground{Rule: rule, ACLIndex: aclIndex, ThroughGroupID: through})
			}
			return nil
		}
		// A bare object has no owner, no ACL and a type ("") that neither
		// the member nor the custom-group rule applies to.
		bare := func() *Object { return &Object{Kind: "group", ID: obj.ID} }
		if err := add(RuleRoot, -1, 0, rightsOnly, bare()); err != nil {
			return nil, err
		}
		if obj.OwnerUserID != 0 || obj.OwnerGroupID != 0 {
			owned := bare()
			owned.OwnerUserID, owned.OwnerGroupID = obj.OwnerUserID, obj.OwnerGroupID
			through := int64(0)
			if obj.OwnerUserID == 0 || obj.OwnerUserID != p.UserID {
				through = obj.OwnerGroupID
			}
			if err := add(RuleOwner, -1, through, subjects, owned); err != nil {
				return nil, err
			}
		}
		if obj.GroupType == "easydb" {
			typed := bare()
			typed.GroupType = obj.GroupType
			if err := add(RuleMember, -1, 0, subjects, typed); err != nil {
				return nil, err
			}
		}
		if rights.IsCustomGroupType(obj.GroupType) && !p.IsRoot() {
			typed := bare()
			typed.GroupType = obj.GroupType
			if err := add(RuleGlobalCustomBagRead, -1, 0, rightsOnly, typed); err != nil {
				return nil, err
			}
		}
		for i := range obj.ACL {
			one := bare()
			one.ACL = []entry.Entry{obj.ACL[i]}
			if err := add(RuleACL, i, obj.ACL[i].WhoGroupID, subjects, one); err != nil {
				return nil, err
			}
		}
		if granted != (len(ex.Grounds) > 0) {
			return nil, errors.Errorf("policy: explain: %s on group %d decided %t with %d grounds", right, obj.ID,
				granted, len(ex.Grounds))
		}
		out = append(out, ex)
	}
	return out, nil
}
