package session

import (
	"strings"
	"testing"

	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/rights"
)

func TestHashAPIToken(t *testing.T) {
	good := APITokenPrefix + strings.Repeat("A", tokenLen)
	if _, ok := hashAPIToken(good); !ok {
		t.Fatal("a well-formed secret is refused")
	}
	for _, bad := range []string{"", APITokenPrefix, good[:len(good)-1], good + "A", "gdx_" + good[4:],
		APITokenPrefix + strings.Repeat("+", tokenLen)} {
		if _, ok := hashAPIToken(bad); ok {
			t.Errorf("%q accepted as a secret", bad)
		}
	}
}

// TestScopeRights: the token's rights are what both the scope and the user
// hold; a scope beyond the user's rights is refused at creation.
func TestScopeRights(t *testing.T) {
	held := rights.Map{"system.group": {"create": true, "edit_acl": false}, "system.user": {}}
	scope := rights.Map{"system.group": {"create": true, "edit_acl": true}, "system.root": {}}
	got := intersectRights(scope, held)
	if len(got) != 1 || got["system.group"]["create"] != true || got["system.group"]["edit_acl"] != false {
		t.Fatalf("intersection %v", got)
	}
	if got := scopeRights(scope, &policy.Principal{SystemRights: rights.Map{"system.root": {}}}); len(got) != 2 {
		t.Fatalf("root's scope is kept whole: %v", got)
	}
	p := &policy.Principal{SystemRights: held}
	if err := checkScopeHeld(rights.Map{"system.group": {"create": true}}, p); err != nil {
		t.Fatalf("a held scope refused: %v", err)
	}
	if err := checkScopeHeld(rights.Map{"system.group": {"edit_acl": false}}, p); err != nil {
		t.Fatalf("asking for false refused: %v", err)
	}
	for _, s := range []rights.Map{{"system.root": {}}, {"system.group": {"edit_acl": true}}} {
		if err := checkScopeHeld(s, p); err == nil || !strings.Contains(err.Error(), "no_system_right") {
			t.Errorf("scope %v beyond the user's rights: %v", s, err)
		}
	}
}
