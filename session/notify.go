package session

import (
	"context"
	"database/sql"
	"encoding/hex"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/groupd/groupd/errors"
	"github.com/lib/pq"
)

// Channel is the PostgreSQL notification channel on which writes announce
// what they changed, so that every groupd process drops what it cached.
const Channel = "groupd_invalidate"

// Payloads on Channel. Ids are decimal, comma-separated; a payload stays
// well below PostgreSQL's limit of 8000 bytes (idsPerNotify).
const (
	kindUsers        = "u" // principals of these users
	kindGroups       = "g" // principals of every member of these groups
	kindUserSessions = "s" // sessions of these users
	kindToken        = "t" // one session or API token, by the hex SHA-256 of its token
	kindAll          = "*" // everything (not sent by groupd itself; for operators: NOTIFY groupd_invalidate, '*')
	idsPerNotify     = 300
)

// NotifyUsers announces, inside the write's transaction tx (delivered at
// commit, dropped with a rollback), that the memberships, system rights,
// login_disabled or password of these users changed: every process drops
// their cached principals. A password change also deletes the user's
// sessions and calls NotifySessions.
func NotifyUsers(ctx context.Context, tx *sql.Tx, userIDs ...int64) error {
	return notifyIDs(ctx, tx, kindUsers, userIDs)
}

// NotifyGroups announces, inside tx, that these groups' system rights
// changed or that they were deleted: every process drops the cached
// principals of their members.
func NotifyGroups(ctx context.Context, tx *sql.Tx, groupIDs ...int64) error {
	return notifyIDs(ctx, tx, kindGroups, groupIDs)
}

// NotifySessions announces, inside tx, that sessions of the user changed or
// were deleted: every process drops the user's cached sessions.
func NotifySessions(ctx context.Context, tx *sql.Tx, userID int64) error {
	return notifyIDs(ctx, tx, kindUserSessions, []int64{userID})
}

// NotifyUsers is the package function NotifyUsers that also drops the
// principals from this process's cache at once, rather than when the
// notification comes back after commit.
func (s *Service) NotifyUsers(ctx context.Context, tx *sql.Tx, userIDs ...int64) error {
	s.dropUsers(userIDs)
	return NotifyUsers(ctx, tx, userIDs...)
}

// NotifyGroups is the package function NotifyGroups that also drops locally
// at once (the group store uses it through its Notifier interface).
func (s *Service) NotifyGroups(ctx context.Context, tx *sql.Tx, groupIDs ...int64) error {
	s.dropGroups(groupIDs)
	return NotifyGroups(ctx, tx, groupIDs...)
}

// NotifySessions is the package function NotifySessions that also drops
// locally at once.
func (s *Service) NotifySessions(ctx context.Context, tx *sql.Tx, userID int64) error {
	s.dropUserSessions([]int64{userID})
	return NotifySessions(ctx, tx, userID)
}

func notifyIDs(ctx context.Context, tx *sql.Tx, kind string, ids []int64) error {
	for len(ids) > 0 {
		n := min(len(ids), idsPerNotify)
		var b strings.Builder
		b.WriteString(kind)
		b.WriteByte(':')
		for i, id := range ids[:n] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatInt(id, 10))
		}
		if err := notify(ctx, tx, b.String()); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

func notifyToken(ctx context.Context, tx *sql.Tx, hash []byte) error {
	return notify(ctx, tx, kindToken+":"+hex.EncodeToString(hash))
}

func notify(ctx context.Context, tx *sql.Tx, payload string) error {
	if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, Channel, payload); err != nil {
		return errors.Database(err)
	}
	return nil
}

// --- receiving ------------------------------------------------------------

// listen connects the listener and waits until it is listening; from then on
// notifications reach s.listenLoop.
func (s *Service) listen(url string) error {
	s.listener = pq.NewListener(url, 100*time.Millisecond, 10*time.Second, s.listenerEvent)
	done := make(chan error, 1)
	go func() { done <- s.listener.Listen(Channel) }()
	select {
	case err := <-done:
		if err != nil {
			s.listener.Close()
			return errors.Errorf("session: listen on %s: %w", Channel, err)
		}
	case <-time.After(30 * time.Second):
		s.listener.Close()
		return errors.Errorf("session: listen on %s: no connection within 30s", Channel)
	}
	s.setCaching(true)
	return nil
}

// listenerEvent runs on the listener's goroutine. A lost connection means
// lost notifications: caching stops until the listener is back, when a nil
// notification (handled in listenLoop) turns it on again, empty.
func (s *Service) listenerEvent(ev pq.ListenerEventType, err error) {
	switch ev {
	case pq.ListenerEventDisconnected, pq.ListenerEventConnectionAttemptFailed:
		s.setCaching(false)
		s.log.Warn("session: invalidation listener disconnected; caching off", slog.String("event", ev.String()),
			slog.Any("error", err))
	case pq.ListenerEventReconnected:
		s.log.Info("session: invalidation listener reconnected")
	}
}

// listenLoop applies notifications and drops every cache now and then as a
// safety net, until Close.
func (s *Service) listenLoop() {
	defer s.wg.Done()
	reset := time.NewTicker(s.cfg.CacheResetInterval)
	defer reset.Stop()
	for {
		select {
		case <-s.stop:
			return
		case n, ok := <-s.listener.Notify:
			if !ok {
				return
			}
			if n == nil { // reconnected: whatever happened meanwhile is unknown
				s.setCaching(true)
				continue
			}
			s.apply(n.Extra)
		case <-reset.C:
			s.dropAll()
		}
	}
}

// apply drops what payload names; a payload it does not understand drops
// everything.
func (s *Service) apply(payload string) {
	kind, rest, _ := strings.Cut(payload, ":")
	if kind == kindAll {
		s.dropAll()
		return
	}
	if kind == kindToken {
		h, err := hex.DecodeString(rest)
		if err != nil || len(h) != tokenHashLen {
			s.dropAll()
			return
		}
		s.sessions.Drop([tokenHashLen]byte(h))
		s.apiTokens.Drop([tokenHashLen]byte(h))
		return
	}
	var ids []int64
	for _, f := range strings.Split(rest, ",") {
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			s.dropAll()
			return
		}
		ids = append(ids, id)
	}
	switch kind {
	case kindUsers:
		s.dropUsers(ids)
	case kindGroups:
		s.dropGroups(ids)
	case kindUserSessions:
		s.dropUserSessions(ids)
	default:
		s.dropAll()
	}
}

func (s *Service) setCaching(on bool) {
	s.sessions.SetEnabled(on)
	s.principals.SetEnabled(on)
	s.apiTokens.SetEnabled(on)
	s.scoped.SetEnabled(on)
}

func (s *Service) dropAll() {
	s.sessions.Clear()
	s.principals.Clear()
	s.apiTokens.Clear()
	s.scoped.Clear()
}

func (s *Service) dropUsers(ids []int64) { s.principals.Drop(ids...) }

func (s *Service) dropGroups(ids []int64) {
	s.principals.DropIf(func(_ int64, id *identity) bool {
		for _, g := range ids {
			if id.principal.InGroup(g) {
				return true
			}
		}
		return false
	})
}

// dropUserSessions drops the cached sessions and API tokens of these users
// (deleted, or their sessions ended).
func (s *Service) dropUserSessions(ids []int64) {
	s.apiTokens.DropIf(func(_ [tokenHashLen]byte, r *apiTokenRow) bool {
		for _, id := range ids {
			if r.UserID == id {
				return true
			}
		}
		return false
	})
	s.sessions.DropIf(func(_ [tokenHashLen]byte, r *sessionRow) bool {
		for _, id := range ids {
			if r.userID == id {
				return true
			}
		}
		return false
	})
}
