package main

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// benchKanboardToken is the Kanboard application token of the groupd that
// groupbench starts (GROUPD_KANBOARD_API_TOKEN; with -url, the target's
// must be set in groupbench's environment under the same name).
const benchKanboardToken = "bench-kanboard-token"

// kanboardClients is scenario 7's concurrency.
const kanboardClients = 8

// 9. Kanboard's JSON-RPC: createGroup, then addGroupMember, each as a ratio
// to the same change through the easydb API in the same run (PUT
// /api/v1/group of one group; POST /api/v1/group/<id>/members adding one
// user), both as root (the application user acts as root). The "floor" of
// these rows is the easydb API: the ratio is the surface's own cost. Every
// request must have changed what it names; the database is checked after
// each load.
func (b *bench) kanboard() error {
	appAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte("jsonrpc:"+kanboardToken()))
	rpc := func(body string) *http.Request {
		return withBody(http.MethodPost, b.base+"/jsonrpc.php", []byte(body), "Authorization", appAuth)
	}
	client := newClient(kanboardClients)
	prefix := fmt.Sprintf("kb%d-", b.runID)
	// The two loads alternate, twice each, and the second round counts: the
	// first round warms what both share (connections, caches, plans).
	var k, e result
	for round := 0; round < 2; round++ {
		e = run(client, kanboardClients, 0, b.sc.Window, func(w, i int) (*http.Request, error) {
			return withBody(http.MethodPut, b.base+"/api/v1/group", []byte(fmt.Sprintf(`[{"group":{"name":"%screate-ez-%d-%d"}}]`,
				prefix, round, i)), "x-easydb-token", b.rootTok), nil
		})
		k = run(client, kanboardClients, 0, b.sc.Window, func(w, i int) (*http.Request, error) {
			return rpc(fmt.Sprintf(`{"jsonrpc":"2.0","method":"createGroup","params":["%screate-%d-%d"],"id":%d}`,
				prefix, round, i, i)), nil
		})
	}
	if err := b.checkCount(`SELECT count(*) FROM groups WHERE name LIKE $1`, k.Requests, prefix+"create-1-%"); err != nil {
		return fmt.Errorf("9a. createGroup: %w", err)
	}
	if err := b.add(row{Scenario: "9a. Kanboard createGroup (JSON-RPC)", Groupd: k, Floor: e,
		FloorName: "the easydb API: PUT /api/v1/group of one group"}); err != nil {
		return err
	}

	// addGroupMember: each worker adds users, in id order and never twice,
	// to its own fresh group, one per surface.
	var users []int64
	rows, err := b.db.Query(`SELECT id FROM users WHERE type <> 'system' ORDER BY id`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		users = append(users, id)
	}
	rows.Close()
	groupsFor := func(surface string) ([]int64, error) {
		ids := make([]int64, kanboardClients)
		for w := range ids {
			req := withBody(http.MethodPut, b.base+"/api/v1/group", []byte(fmt.Sprintf(`[{"group":{"name":"%smembers-%s-%d"}}]`,
				prefix, surface, w)), "x-easydb-token", b.rootTok)
			resp, doErr := http.DefaultClient.Do(req)
			if doErr != nil {
				return nil, doErr
			}
			var out []struct {
				Group struct {
					ID int64 `json:"_id"`
				} `json:"group"`
			}
			decodeJSON(resp, &out)
			if len(out) != 1 {
				return nil, fmt.Errorf("creating a group for 7b: HTTP %d", resp.StatusCode)
			}
			ids[w] = out[0].Group.ID
		}
		return ids, nil
	}
	kbGroups, err := groupsFor("kb")
	if err != nil {
		return err
	}
	ezGroups, err := groupsFor("ez")
	if err != nil {
		return err
	}
	// Both loads stop at the number of users: a user is added once per run.
	total := len(users)
	k = run(client, kanboardClients, total, b.sc.Window, func(w, i int) (*http.Request, error) {
		return rpc(fmt.Sprintf(`{"jsonrpc":"2.0","method":"addGroupMember","params":[%d,%d],"id":%d}`,
			kbGroups[w], users[i%len(users)], i)), nil
	})
	e = run(client, kanboardClients, total, b.sc.Window, func(w, i int) (*http.Request, error) {
		return withBody(http.MethodPost, fmt.Sprintf("%s/api/v1/group/%d/members", b.base, ezGroups[w]),
			[]byte(fmt.Sprintf(`{"add":[%d]}`, users[i%len(users)])), "x-easydb-token", b.rootTok), nil
	})
	if err := b.checkCount(`SELECT count(*) FROM memberships WHERE group_id = ANY($1)`, k.Requests, pqArray(kbGroups)); err != nil {
		return fmt.Errorf("9b. addGroupMember: %w", err)
	}
	return b.add(row{Scenario: "9b. Kanboard addGroupMember (JSON-RPC)", Groupd: k, Floor: e,
		FloorName: "the easydb API: POST /api/v1/group/<id>/members adding one user"})
}

// checkCount fails unless query (a count) answers want: every JSON-RPC
// call of a load changed what it names (JSON-RPC answers false with 200).
func (b *bench) checkCount(query string, want int, args ...any) error {
	var n int
	if err := b.db.QueryRow(query, args...).Scan(&n); err != nil {
		return err
	}
	if n != want {
		return fmt.Errorf("%d requests answered 200, but %d changes were made", want, n)
	}
	return nil
}

// kanboardToken is the Kanboard application token of the target.
func kanboardToken() string {
	if t := strings.TrimSpace(os.Getenv("GROUPD_KANBOARD_API_TOKEN")); t != "" {
		return t
	}
	return benchKanboardToken
}
