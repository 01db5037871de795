package group

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/db/dbtest"
)

// planNode is a node of EXPLAIN (FORMAT JSON).
type planNode struct {
	NodeType    string     `json:"Node Type"`
	Relation    string     `json:"Relation Name"`
	Parent      string     `json:"Parent Relationship"`
	SubplanName string     `json:"Subplan Name"`
	ActualLoops float64    `json:"Actual Loops"`
	Plans       []planNode `json:"Plans"`
}

func (n planNode) walk(fn func(planNode)) {
	fn(n)
	for _, c := range n.Plans {
		c.walk(fn)
	}
}

// TestGetQueryGenericPlan: the generic plan of the read by id (the plan a
// prepared statement keeps after its first executions on a connection) reads
// every row by an index, whatever the tables' sizes, and computes the
// principal's rights once for the group, not once per ACL entry. With 2,000
// users and 1,000 groups of 10 entries, a plan free to join whole tables
// hashes all users for the entries' ten names.
func TestGetQueryGenericPlan(t *testing.T) {
	d := dbtest.MustOpenDB(t)
	ctx := context.Background()
	planWorld(t, d)
	conn, err := d.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{
		`SET plan_cache_mode = force_generic_plan`,
		`PREPARE get_one (bigint, bigint[], bigint[], boolean, boolean, timestamptz, bigint) AS ` + getQuery,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var out string
	if err := conn.QueryRowContext(ctx, `EXPLAIN (ANALYZE, FORMAT JSON)
		EXECUTE get_one (1000, '{10000,1,2}', '{10000}', false, false, now(), 10500)`).Scan(&out); err != nil {
		t.Fatal(err)
	}
	var plans []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(out), &plans); err != nil {
		t.Fatal(err)
	}
	if len(plans) != 1 {
		t.Fatalf("EXPLAIN gave %d plans", len(plans))
	}
	masks := 0
	plans[0].Plan.walk(func(n planNode) {
		switch n.NodeType {
		case "Seq Scan", "Hash Join", "Merge Join":
			t.Errorf("the generic plan has a %s %s, not only index lookups:\n%s", n.NodeType, n.Relation, out)
		}
		if n.Parent == "SubPlan" && strings.HasPrefix(n.SubplanName, "SubPlan") {
			masks++
			if n.ActualLoops != 1 {
				t.Errorf("the rights subquery ran %v times for one group:\n%s", n.ActualLoops, out)
			}
		}
	})
	if masks != 1 {
		t.Errorf("the generic plan has %d subplans, want 1 (the rights):\n%s", masks, out)
	}
}

// planWorld: 2,000 users and 1,000 groups of ten ACL entries each (nine
// users and the readers' group 10000, whose member is user 1000).
func planWorld(t *testing.T, d *db.DB) {
	t.Helper()
	ctx := context.Background()
	for _, q := range []string{
		`INSERT INTO users (id, login, type) SELECT i, 'u' || i, 'easydb' FROM generate_series(1000, 2999) i`,
		`INSERT INTO groups (id, name, type, owner_user_id) SELECT i, 'g' || i, 'easydb', 1 FROM generate_series(10000, 10999) i`,
		`INSERT INTO memberships (group_id, user_id) VALUES (10000, 1000)`,
		// Ten entries a group: nine users and the readers' group.
		`INSERT INTO group_acl (group_id, position, who_user_id, who_group_id, rights, mask, active)
			SELECT g, p, CASE WHEN p < 9 THEN 1000 + (g * 10 + p) % 2000 END, CASE WHEN p = 9 THEN 10000 END,
				'{"bag_read": {}}', 1, true
			FROM generate_series(10000, 10999) g, generate_series(0, 9) p`,
		`ANALYZE users, groups, group_acl, memberships`,
	} {
		if _, err := d.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestGetQueryPlansCostAlike: a custom plan of the read by id, made with
// the parameters' values, costs exactly what its generic plan costs, for
// every principal and id. So after its five custom plans PostgreSQL keeps
// the generic one on every connection (it keeps custom plans only while
// they cost less than the generic one with their planning counted), and
// what the tables' statistics say at the moment cannot make it plan every
// read anew. With the values visible to the planner (main's getQuery),
// the costs differ with the principal's arrays and the time.
func TestGetQueryPlansCostAlike(t *testing.T) {
	d := dbtest.MustOpenDB(t)
	ctx := context.Background()
	planWorld(t, d)
	conn, err := d.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PREPARE get_one (bigint, bigint[], bigint[], boolean, boolean, timestamptz, bigint) AS `+getQuery); err != nil {
		t.Fatal(err)
	}
	cost := func(mode, args string) float64 {
		t.Helper()
		if _, err := conn.ExecContext(ctx, `SET plan_cache_mode = `+mode); err != nil {
			t.Fatal(err)
		}
		var out string
		if err := conn.QueryRowContext(ctx, `EXPLAIN (FORMAT JSON) EXECUTE get_one (`+args+`)`).Scan(&out); err != nil {
			t.Fatal(err)
		}
		var plans []struct {
			Plan struct {
				TotalCost float64 `json:"Total Cost"`
			} `json:"Plan"`
		}
		if err := json.Unmarshal([]byte(out), &plans); err != nil || len(plans) != 1 {
			t.Fatalf("EXPLAIN: %v %s", err, out)
		}
		return plans[0].Plan.TotalCost
	}
	generic := cost("force_generic_plan", `1000, '{10000,1,2}', '{10000}', false, false, now(), 10500`)
	for _, args := range []string{
		`1000, '{10000,1,2}', '{10000}', false, false, now(), 10500`,
		`1000, '{1,2}', '{}', false, false, now(), 10001`,
		`1500, '{10000,1,2,3,4,5,6,7,8,9,10,11,12}', '{10000}', false, true, '2001-01-01', 10999`,
		`1, '{1,2}', '{}', true, false, now(), 10000`,
	} {
		if custom := cost("force_custom_plan", args); custom != generic {
			t.Errorf("EXECUTE get_one (%s): a custom plan costs %v, the generic plan %v", args, custom, generic)
		}
	}
}
