package acl

import (
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/groupd/groupd/db/dbtest"
	"github.com/groupd/groupd/rights"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// TestStoredRightsIsWhatJSONBReturns: for random sets of ACL rights, each
// with or without _grantable, StoredRights gives the text PostgreSQL's
// jsonb returns for them (compacted), and storedTexts gives the same.
func TestStoredRightsIsWhatJSONBReturns(t *testing.T) {
	d := dbtest.MustOpenDB(t)
	seed := time.Now().UnixNano()
	r := rand.New(rand.NewSource(seed))
	var st storedTexts
	for i := 0; i < 300; i++ {
		raw := map[string]any{}
		for _, name := range rights.GroupACLRights {
			switch r.Intn(4) {
			case 0:
				raw[name] = map[string]any{}
			case 1:
				raw[name] = map[string]any{"_grantable": r.Intn(2) == 0}
			}
		}
		m, err := rights.DecodeACLRights(raw, "rights", rights.GroupACLRights)
		if err != nil {
			t.Fatal(err)
		}
		written, err := m.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var back string
		if err := d.QueryRow(`SELECT $1::jsonb::text`, string(written)).Scan(&back); err != nil {
			t.Fatal(err)
		}
		want := strings.ReplaceAll(back, " ", "") // names and booleans hold no spaces
		if got := string(StoredRights(m)); got != want {
			t.Fatalf("seed %d: StoredRights %s, jsonb %s", seed, got, want)
		}
		if got := string(st.of(m)); got != want {
			t.Fatalf("seed %d: storedTexts %s, jsonb %s", seed, got, want)
		}
	}
}
