package integration

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"fmt"
	"net/url"
	"testing"

	"github.com/groupd/groupd/session"
	"golang.org/x/crypto/argon2"
)

// Client is an authenticated API client of a test server.
type Client struct {
	s      *Server
	Token  string
	UserID int64
}

// Do sends a request with the client's token in x-easydb-token.
func (c *Client) Do(tb testing.TB, method, path string, body any) *Response {
	tb.Helper()
	return c.s.Do(tb, method, path, body, "x-easydb-token", c.Token)
}

// Login runs the easydb session flow: GET /api/v1/session for a token, then
// POST /api/v1/session/authenticate with login and password.
func (s *Server) Login(tb testing.TB, login, password string) *Client {
	tb.Helper()
	r := s.Do(tb, "GET", "/api/v1/session", nil)
	var sess struct {
		Token string `json:"token"`
	}
	r.JSON(tb, &sess)
	if r.StatusCode != 200 || sess.Token == "" {
		tb.Fatalf("GET /api/v1/session: %d %s", r.StatusCode, r.Body)
	}
	q := url.Values{"token": {sess.Token}, "login": {login}, "password": {password}}
	r = s.Do(tb, "POST", "/api/v1/session/authenticate?"+q.Encode(), nil)
	var auth struct {
		User struct {
			User struct {
				ID int64 `json:"_id"`
			} `json:"user"`
		} `json:"user"`
	}
	r.JSON(tb, &auth)
	if r.StatusCode != 200 {
		tb.Fatalf("authenticate %s: %d %s", login, r.StatusCode, r.Body)
	}
	return &Client{s: s, Token: sess.Token, UserID: auth.User.User.ID}
}

// Root logs in as root.
func (s *Server) Root(tb testing.TB) *Client { return s.Login(tb, "root", RootPassword) }

// MustCreateUser creates a user directly in the database (the user API is
// another issue's) with the given system rights (JSON) and password "pw-<login>".
func (s *Server) MustCreateUser(tb testing.TB, login, systemRights string) int64 {
	tb.Helper()
	hash := testPasswordHash(tb, "pw-"+login)
	if systemRights == "" {
		systemRights = "{}"
	}
	var id int64
	if err := s.DB.QueryRow(`INSERT INTO users (login, password_hash, system_rights, owner_user_id)
		VALUES ($1, $2, $3, 1) RETURNING id`, login, hash, systemRights).Scan(&id); err != nil {
		tb.Fatal(err)
	}
	return id
}

// testPasswordHash is the argon2id hash of pw in the PHC form that
// passwords.Hash writes, at a cost of 1 MiB, one pass and one lane
// instead of 64 MiB and two lanes. The server checks every hash with the
// parameters stored in it, so the users the tests make log in through the
// same code, at a small fraction of the cost: under -race, hashing with the
// defaults took 14% of this package's CPU time (tens of users and logins
// per test). Root keeps the hash the server made at its first start, and
// an unknown login is still checked against a hash with the defaults.
func testPasswordHash(tb testing.TB, pw string) string {
	tb.Helper()
	const memory, passes, lanes = 1024, 1, 1
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		tb.Fatal(err)
	}
	key := argon2.IDKey([]byte(pw), salt, passes, memory, lanes, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, memory, passes, lanes,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// LoginAs logs in a user made by MustCreateUser.
func (s *Server) LoginAs(tb testing.TB, login string) *Client { return s.Login(tb, login, "pw-"+login) }

// AddMember puts a user into a group in the database, telling every process
// as the user API will.
func (s *Server) AddMember(tb testing.TB, groupID, userID int64) {
	tb.Helper()
	err := s.DB.InTx(context.Background(), func(tx *sql.Tx) error {
		if _, err := tx.Exec(`INSERT INTO memberships (group_id, user_id) VALUES ($1, $2)`, groupID, userID); err != nil {
			return err
		}
		return session.NotifyUsers(context.Background(), tx, userID)
	})
	if err != nil {
		tb.Fatal(err)
	}
}
