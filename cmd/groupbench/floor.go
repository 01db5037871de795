package main

import (
	"database/sql"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/lib/pq"
)

// floorServer is the floor of every read and write scenario: a bare
// net/http handler with lib/pq, in this binary, doing the same SELECT or
// UPDATE by primary key and encoding the rows as JSON — no sessions, no
// policy, no validation. groupd's cost above it is what groupd adds.
type floorServer struct {
	db      *sql.DB
	url     string
	srv     *http.Server
	visible []int64 // the reader's visible groups, for ?visible=1
}

type floorGroup struct {
	ID          int64           `json:"_id"`
	Version     int64           `json:"_version"`
	Type        string          `json:"type"`
	Name        *string         `json:"name"`
	Displayname json.RawMessage `json:"displayname"`
	Reference   *string         `json:"reference"`
	Owner       int64           `json:"owner"`
}

const floorSelect = `SELECT id, version, type, name, displayname, reference, COALESCE(owner_user_id, 0) FROM groups`

func scanFloor(rows *sql.Rows) ([]floorGroup, error) {
	var out []floorGroup
	for rows.Next() {
		var g floorGroup
		var dn []byte
		if err := rows.Scan(&g.ID, &g.Version, &g.Type, &g.Name, &dn, &g.Reference, &g.Owner); err != nil {
			return nil, err
		}
		g.Displayname = dn
		out = append(out, g)
	}
	return out, rows.Err()
}

func startFloor(dbURL string) (*floorServer, error) {
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(64)
	db.SetMaxIdleConns(64)
	mux := http.NewServeMux()
	f := &floorServer{db: db}
	// GET /group/{id}: the group row and its ACL rows, the same rows
	// groupd's full format carries, by one plain SELECT on the primary key.
	mux.HandleFunc("GET /group/{id}", func(w http.ResponseWriter, r *http.Request) {
		rows, handlerErr := db.QueryContext(r.Context(), `SELECT g.id, g.version, g.type, g.name, g.displayname, g.reference,
			COALESCE(g.owner_user_id, 0), a.id, a.who_user_id, a.who_group_id, a.rights::text, a.active
			FROM groups g LEFT JOIN group_acl a ON a.group_id = g.id WHERE g.id = $1 ORDER BY a.position`, r.PathValue("id"))
		if handlerErr != nil {
			http.Error(w, handlerErr.Error(), 500)
			return
		}
		defer rows.Close()
		type aclRow struct {
			ID       *int64          `json:"_id"`
			WhoUser  *int64          `json:"who_user"`
			WhoGroup *int64          `json:"who_group"`
			Rights   json.RawMessage `json:"rights"`
			Active   *bool           `json:"active"`
		}
		var g floorGroup
		var acl []aclRow
		for rows.Next() {
			var dn []byte
			var a aclRow
			var rights *string
			if scanErr := rows.Scan(&g.ID, &g.Version, &g.Type, &g.Name, &dn, &g.Reference, &g.Owner,
				&a.ID, &a.WhoUser, &a.WhoGroup, &rights, &a.Active); scanErr != nil {
				http.Error(w, scanErr.Error(), 500)
				return
			}
			g.Displayname = dn
			if a.ID != nil {
				a.Rights = json.RawMessage(*rights)
				acl = append(acl, a)
			}
		}
		json.NewEncoder(w).Encode([]any{map[string]any{"group": g, "_acl": acl}})
	})
	// the same rows as a listing page: the groups by SELECT ... ORDER BY id
	// LIMIT OFFSET and their ACL rows by a second SELECT, encoded as JSON.
	mux.HandleFunc("GET /groups", func(w http.ResponseWriter, r *http.Request) {
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		var rows *sql.Rows
		var queryErr error
		if r.URL.Query().Get("visible") == "1" {
			rows, queryErr = db.QueryContext(r.Context(), floorSelect+` WHERE id = ANY($3) ORDER BY id LIMIT $1 OFFSET $2`,
				limit, offset, pq.Array(f.visible))
		} else {
			rows, queryErr = db.QueryContext(r.Context(), floorSelect+` ORDER BY id LIMIT $1 OFFSET $2`, limit, offset)
		}
		if queryErr != nil {
			http.Error(w, queryErr.Error(), 500)
			return
		}
		gs, queryErr := scanFloor(rows)
		rows.Close()
		if queryErr != nil {
			http.Error(w, queryErr.Error(), 500)
			return
		}
		ids := make([]int64, len(gs))
		for i, g := range gs {
			ids[i] = g.ID
		}
		type aclRow struct {
			GroupID   int64           `json:"group_id"`
			ID        int64           `json:"_id"`
			WhoUser   *int64          `json:"who_user"`
			WhoGroup  *int64          `json:"who_group"`
			Rights    json.RawMessage `json:"rights"`
			Active    bool            `json:"active"`
			CreatedAt time.Time       `json:"date_created"`
		}
		rows, queryErr = db.QueryContext(r.Context(), `SELECT group_id, id, who_user_id, who_group_id, rights::text, active,
			created_at FROM group_acl WHERE group_id = ANY($1) ORDER BY group_id, position`, pq.Array(ids))
		if queryErr != nil {
			http.Error(w, queryErr.Error(), 500)
			return
		}
		defer rows.Close()
		var acl []aclRow
		for rows.Next() {
			var a aclRow
			var rights string
			if scanErr := rows.Scan(&a.GroupID, &a.ID, &a.WhoUser, &a.WhoGroup, &rights, &a.Active, &a.CreatedAt); scanErr != nil {
				http.Error(w, scanErr.Error(), 500)
				return
			}
			a.Rights = json.RawMessage(rights)
			acl = append(acl, a)
		}
		json.NewEncoder(w).Encode(map[string]any{"groups": gs, "acl": acl})
	})
	mux.HandleFunc("POST /group/{id}", func(w http.ResponseWriter, r *http.Request) {
		rows, handlerErr := db.QueryContext(r.Context(), `UPDATE groups SET version = version + 1, comment = $2, updated_at = now()
			WHERE id = $1 RETURNING id, version, type, name, displayname, reference, COALESCE(owner_user_id, 0)`,
			r.PathValue("id"), time.Now().String())
		if handlerErr != nil {
			http.Error(w, handlerErr.Error(), 500)
			return
		}
		defer rows.Close()
		gs, handlerErr := scanFloor(rows)
		if handlerErr != nil {
			http.Error(w, handlerErr.Error(), 500)
			return
		}
		json.NewEncoder(w).Encode(gs)
	})
	mux.HandleFunc("GET /objects", objectFloor(db))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f.url, f.srv = "http://"+ln.Addr().String(), &http.Server{Handler: mux}
	go f.srv.Serve(ln)
	return f, nil
}

func (f *floorServer) Close() { f.srv.Close(); f.db.Close() }

// copyFloor is scenario 3's floor: COPY of the same group and ACL rows in one
// transaction, rolled back so that the dataset stays as it was.
func copyFloor(db *sql.DB, groups []benchGroup, firstID int64) (time.Duration, error) {
	start := time.Now()
	tx, err := db.Begin()
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	stmt, err := tx.Prepare("COPY groups (id, name, displayname, reference, owner_user_id) FROM STDIN")
	if err != nil {
		return 0, err
	}
	for i, g := range groups {
		dn, _ := json.Marshal(g.Displayname)
		if _, execErr := stmt.Exec(firstID+int64(i), g.Name, string(dn), g.Reference, 1); execErr != nil {
			return 0, execErr
		}
	}
	if _, execErr := stmt.Exec(); execErr != nil {
		return 0, execErr
	}
	stmt.Close()
	stmt, err = tx.Prepare("COPY group_acl (group_id, position, who_user_id, who_group_id, rights, mask) FROM STDIN")
	if err != nil {
		return 0, err
	}
	for i, g := range groups {
		for pos, e := range g.ACL {
			rights, _ := json.Marshal(e.Rights)
			if _, err := stmt.Exec(firstID+int64(i), pos, e.whoUser(), e.whoGroup(), string(rights), e.mask); err != nil {
				return 0, err
			}
		}
	}
	if _, err := stmt.Exec(); err != nil {
		return 0, err
	}
	stmt.Close()
	if _, err := tx.Exec(`SELECT 1`); err != nil { // the COPY is complete on the server
		return 0, err
	}
	return time.Since(start), nil
}
