package batch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/groupd/groupd/client"
)

// DefaultBatchSize is the number of items per bulk request.
const DefaultBatchSize = 1000

// Progress shows how far a phase is. Add is called from one goroutine at a
// time.
type Progress interface {
	Add(n int)
	Done()
}

// Options steer an import.
type Options struct {
	BatchSize int  // items per bulk request (default 1000)
	Parallel  int  // bulk requests in flight at once (default 1)
	DryRun    bool // plan and print, write nothing
	// Prune deletes the server's synced groups (and, for a file with users,
	// users) whose reference is not in the file; at most MaxDelete of them
	// unless Force.
	Prune     bool
	MaxDelete MaxDelete
	Force     bool
	// KeepMemberships: users' groups lists and groups' members lists only
	// add memberships, for files that are not the complete truth.
	KeepMemberships bool
	// Out receives the dry-run plan and notices (nil: discarded).
	Out io.Writer
	// NewProgress makes the progress display of a phase (nil: none).
	NewProgress func(label string, total int) Progress
}

// Importer imports records into the server of C.
type Importer struct {
	C   *client.Client
	Opt Options

	mu  sync.Mutex // guards the records, indexes and report while batches run
	rep *Report
	gix *groupIndex
	uix *userIndex
}

// wItem is one write item of a bulk request.
type wItem[T any] struct {
	raw  json.RawMessage
	ok   func(*T)
	fail func(*client.Error)
}

// Run imports recs. The report is complete even when err is not nil (a
// network or server failure, or ctx cancelled): items not reached are
// counted as pending, and running the same import again finishes the job.
func (im *Importer) Run(ctx context.Context, recs []*Record) (rep *Report, err error) {
	start := time.Now()
	if im.Opt.BatchSize <= 0 {
		im.Opt.BatchSize = DefaultBatchSize
	}
	if im.Opt.Parallel <= 0 {
		im.Opt.Parallel = 1
	}
	if im.Opt.Out == nil {
		im.Opt.Out = io.Discard
	}
	im.rep = &Report{DryRun: im.Opt.DryRun, Failures: []Failure{}, Deletions: []Deletion{}}
	im.rep.Memberships.Removals = []MembershipChange{}
	defer func() {
		im.rep.tally(recs)
		im.rep.Seconds = time.Since(start).Seconds()
		if errors.Is(err, context.Canceled) || ctx.Err() != nil {
			im.rep.Interrupted = true
		}
		rep = im.rep
	}()

	if im.Opt.Prune && len(recs) == 0 {
		return nil, &PruneRefusedError{Reason: "the file has no items; pruning from it would delete every " +
			"synced group and user"}
	}
	var groups, users []*Record
	unreadable := 0
	for _, r := range recs {
		switch {
		case r.Err != nil:
			r.fail(r.Err)
			unreadable++
		case r.Kind == KindUser:
			users = append(users, r)
		default:
			groups = append(groups, r)
		}
	}
	checkDuplicateGroups(groups)
	checkDuplicateUsers(users)
	withMembers := false
	for _, r := range groups {
		withMembers = withMembers || r.G.MembersSet
	}

	// The server's groups and (when needed) users, read at the same time.
	var (
		existing      []client.Group
		existingUsers []client.User
		userErr       error
		wg            sync.WaitGroup
	)
	if len(users) > 0 || withMembers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			existingUsers, userErr = im.C.AllUsers(ctx, client.UserFilter{}, nil)
		}()
	}
	existing, err = im.C.AllGroups(ctx, client.GroupFilter{}, nil)
	wg.Wait()
	if err != nil {
		return nil, fmt.Errorf("reading the server's groups: %w", err)
	}
	if userErr != nil {
		return nil, fmt.Errorf("reading the server's users: %w", userErr)
	}
	im.gix = newGroupIndex(existing)
	im.uix = newUserIndex(existingUsers)
	if withMembers {
		im.checkMembers(groups, users)
	}

	// What --prune deletes is decided before anything is written, so that a
	// refusal (--max-delete) leaves the server as it was.
	var (
		doomed  []Deletion
		refusal *PruneRefusedError
	)
	if im.Opt.Prune {
		if unreadable > 0 {
			im.rep.PruneSkipped = fmt.Sprintf("%d item(s) of the file could not be read, so which references it "+
				"holds is not known", unreadable)
		} else {
			var synced int
			doomed, synced = im.planPrune(existing, existingUsers, groups, users)
			if refusal = im.checkMaxDelete(doomed, synced); refusal != nil {
				im.rep.PruneRefused = refusal.Reason
				if !im.Opt.DryRun {
					im.rep.Deletions = doomed // named, though not deleted
					return nil, refusal
				}
			}
		}
	}

	if err := im.importGroups(ctx, groups); err != nil {
		return nil, err
	}
	if len(users) > 0 || withMembers {
		if err := im.importUsers(ctx, groups, users, existingUsers); err != nil {
			return nil, err
		}
	}
	if err := im.prune(ctx, doomed); err != nil {
		return nil, err
	}
	if refusal != nil {
		return nil, refusal // a dry run shows the plan, and says that the real run would stop
	}
	return nil, nil
}

func (im *Importer) say(format string, args ...any) {
	im.mu.Lock()
	defer im.mu.Unlock()
	fmt.Fprintf(im.Opt.Out, format+"\n", args...)
}

// checkDuplicateGroups fails every group item that claims a reference, name
// or displayname an earlier item claims: both would be the same group.
func checkDuplicateGroups(groups []*Record) {
	claimed := map[string]*Record{}
	for _, r := range groups {
		if r.failed() {
			continue
		}
		var keys []struct{ constraint, key string }
		if v := r.G.Reference.Val; v != nil {
			keys = append(keys, struct{ constraint, key string }{"group.reference", "r\x00" + *v})
		}
		if v := r.G.Name.Val; v != nil {
			keys = append(keys, struct{ constraint, key string }{"group.name", "n\x00" + *v})
		}
		for _, c := range sortedKeys(r.G.Displayname) {
			if v := r.G.Displayname[c]; v != nil {
				keys = append(keys, struct{ constraint, key string }{"group.displayname", "d\x00" + c + "\x00" + *v})
			}
		}
		for _, k := range keys {
			if first := claimed[k.key]; first != nil {
				r.fail(apiError("error.user.integrity_constraint_violation", "constraint", k.constraint,
					"description", fmt.Sprintf("the same %s as line %d", k.constraint, first.Line)))
				break
			}
		}
		if r.failed() {
			continue
		}
		for _, k := range keys {
			claimed[k.key] = r
		}
	}
}

func checkDuplicateUsers(users []*Record) {
	claimed := map[string]*Record{}
	for _, r := range users {
		if r.failed() {
			continue
		}
		login, ref := r.U.Text["login"].Val, r.U.Text["reference"].Val
		if login == nil && ref == nil {
			r.fail(apiError("error.api.attribute_expected", "attribute", "user.login",
				"description", "a user needs a login or a reference to be matched on the next run"))
			continue
		}
		var keys []struct{ constraint, key string }
		if ref != nil {
			keys = append(keys, struct{ constraint, key string }{"user.reference", "r\x00" + *ref})
		}
		if login != nil {
			keys = append(keys, struct{ constraint, key string }{"user.login", "l\x00" + strings.ToLower(*login)})
		}
		for _, k := range keys {
			if first := claimed[k.key]; first != nil {
				r.fail(apiError("error.user.integrity_constraint_violation", "constraint", k.constraint,
					"description", fmt.Sprintf("the same %s as line %d", k.constraint, first.Line)))
				break
			}
		}
		if !r.failed() {
			for _, k := range keys {
				claimed[k.key] = r
			}
		}
	}
}

// checkMembers fails group items whose members list names a login that is
// neither on the server nor a user of the file.
func (im *Importer) checkMembers(groups, users []*Record) {
	inFile := map[string]bool{}
	for _, r := range users {
		if !r.failed() && r.U.Text["login"].Val != nil {
			inFile[strings.ToLower(*r.U.Text["login"].Val)] = true
		}
	}
	for _, r := range groups {
		if r.failed() || !r.G.MembersSet {
			continue
		}
		for _, login := range r.G.Members {
			l := strings.ToLower(login)
			if im.uix.byLogin[l] == nil && !inFile[l] {
				r.fail(apiError("error.user.user_not_found", "login", login,
					"description", "members: no user with this login on the server or in the file"))
				break
			}
		}
	}
}

// --- groups -----------------------------------------------------------------

func (im *Importer) importGroups(ctx context.Context, groups []*Record) error {
	claimed := map[int64]*Record{}
	var items []*wItem[client.Group]
	for _, r := range groups {
		if r.failed() {
			continue
		}
		cur := im.gix.match(r.G)
		if cur != nil && referenceConflict(r.G.Reference, cur.Group.Reference) {
			constraint := "group.name"
			if r.G.Name.Val == nil {
				constraint = "group.displayname"
			}
			r.fail(conflictError(constraint, r.Name(), "group", cur.Group.ID, *cur.Group.Reference))
			continue
		}
		if cur != nil {
			if first := claimed[cur.Group.ID]; first != nil {
				r.fail(apiError("error.api.invalid_value", "attribute", "group._id", "reason",
					fmt.Sprintf("matches group %d, as line %d does", cur.Group.ID, first.Line)))
				continue
			}
			claimed[cur.Group.ID] = r
			r.id = cur.Group.ID
		}
		ch := groupChange(r.G, cur)
		if ch.empty() {
			r.outcome = Unchanged
			continue
		}
		outcome := Updated
		if cur == nil {
			outcome = Created
		}
		if im.Opt.DryRun {
			if e := im.dryRunCheck(KindGroup, ch, groupID(cur)); e != nil {
				r.fail(e)
				continue
			}
			im.sayChange(outcome, KindGroup, r, cur, ch)
			r.outcome = outcome
			if cur == nil {
				// A stand-in, so that users and members can name the group.
				r.id = -int64(r.Line)
				im.gix.put(specGroup(r.G, r.id))
			}
			continue
		}
		r := r
		items = append(items, &wItem[client.Group]{
			raw: ch.encode(KindGroup),
			ok: func(g *client.Group) {
				r.outcome, r.id = outcome, g.Group.ID
				im.gix.put(g)
			},
			fail: r.fail,
		})
	}
	return sendAll(ctx, im, "groups", items, im.C.WriteGroups)
}

// specGroup is the group a dry run pretends to create.
func specGroup(s *GroupSpec, id int64) *client.Group {
	g := &client.Group{Group: client.GroupBody{ID: id, Name: s.Name.Val, Reference: s.Reference.Val,
		Displayname: map[string]string{}}}
	for c, v := range s.Displayname {
		if v != nil {
			g.Group.Displayname[c] = *v
		}
	}
	return g
}

func (im *Importer) sayChange(outcome string, kind Kind, r *Record, cur any, ch *change) {
	verb := map[string]string{Created: "create", Updated: "update"}[outcome]
	where := "line " + fmt.Sprint(r.Line)
	var id int64
	switch c := cur.(type) {
	case *client.Group:
		if c != nil {
			id = c.Group.ID
		}
	case *client.User:
		if c != nil {
			id = c.User.ID
		}
	}
	target := string(kind)
	if id > 0 {
		target += fmt.Sprintf(" #%d", id)
	}
	label := ""
	if ref := r.Reference(); ref != "" {
		label += fmt.Sprintf(" reference=%q", ref)
	}
	if n := r.Name(); n != "" {
		label += fmt.Sprintf(" name=%q", n)
	}
	im.say("%s %s%s (%s): %s", verb, target, label, where, strings.Join(ch.changed, ", "))
}

// --- users and memberships --------------------------------------------------

// memberPlan is what the members lists of the file's groups say: the groups
// whose membership the file gives completely, and per login the groups that
// list it.
type memberPlan struct {
	authoritative map[int64]*Record
	listedIn      map[string][]int64
	keep          bool // --keep-memberships: lists only add
}

func (im *Importer) memberPlan(groups []*Record) *memberPlan {
	mp := &memberPlan{authoritative: map[int64]*Record{}, listedIn: map[string][]int64{}, keep: im.Opt.KeepMemberships}
	for _, r := range groups {
		if r.failed() || !r.G.MembersSet || r.id == 0 {
			continue
		}
		mp.authoritative[r.id] = r
		for _, login := range r.G.Members {
			l := strings.ToLower(login)
			mp.listedIn[l] = append(mp.listedIn[l], r.id)
		}
	}
	return mp
}

// apply returns base with the members lists applied (a group that lists the
// login is added, an authoritative group that does not is removed), and the
// group items whose lists changed something.
func (mp *memberPlan) apply(base []int64, login string) ([]int64, []*Record) {
	if len(mp.authoritative) == 0 {
		return base, nil
	}
	want := map[int64]bool{}
	for _, id := range mp.listedIn[strings.ToLower(login)] {
		want[id] = true
	}
	var out []int64
	var by []*Record
	has := map[int64]bool{}
	for _, id := range base {
		has[id] = true
		if r := mp.authoritative[id]; r != nil && !want[id] && !mp.keep {
			by = append(by, r) // removed
			continue
		}
		out = append(out, id)
	}
	for _, id := range mp.listedIn[strings.ToLower(login)] {
		if !has[id] {
			has[id] = true
			out = append(out, id)
			by = append(by, mp.authoritative[id])
		}
	}
	return out, by
}

func (im *Importer) importUsers(ctx context.Context, groups, users []*Record, existing []client.User) error {
	mp := im.memberPlan(groups)
	claimed := map[int64]bool{}
	var items []*wItem[client.User]
	for _, r := range users {
		if r.failed() {
			continue
		}
		cur := im.uix.match(r.U)
		if cur != nil && referenceConflict(r.U.Text["reference"], cur.User.Reference) {
			r.fail(conflictError("user.login", r.Name(), "user", cur.User.ID, *cur.User.Reference))
			continue
		}
		if cur != nil {
			if claimed[cur.User.ID] {
				r.fail(apiError("error.api.invalid_value", "attribute", "user._id", "reason",
					fmt.Sprintf("matches user %d, as an earlier line does", cur.User.ID)))
				continue
			}
			claimed[cur.User.ID] = true
			r.id = cur.User.ID
		}
		var desired []int64 // nil: leave the user's groups
		if r.U.GroupsSet {
			desired = []int64{}
			seen := map[int64]bool{}
			for _, k := range r.U.Groups {
				g := im.gix.resolve(k)
				if g == nil {
					r.fail(apiError("error.user.group_not_found", "group", k.String(),
						"description", "groups: no such group on the server or in the file"))
					break
				}
				if !seen[g.Group.ID] {
					seen[g.Group.ID] = true
					desired = append(desired, g.Group.ID)
				}
			}
			if r.failed() {
				continue
			}
		}
		login := ""
		if v := r.U.Text["login"].Val; v != nil {
			login = *v
		} else if cur != nil && cur.User.Login != nil {
			login = *cur.User.Login
		}
		if desired != nil && cur != nil && im.Opt.KeepMemberships {
			desired = union(desired, cur.GroupIDs())
		}
		base := desired
		if base == nil && cur != nil {
			base = cur.GroupIDs()
		}
		after, by := mp.apply(base, login)
		if desired != nil || len(by) > 0 {
			desired = after
			if desired == nil {
				desired = []int64{}
			}
		}
		ch := userChange(r.U, cur, desired)
		if ch.empty() {
			r.outcome = Unchanged
			continue
		}
		outcome := Updated
		if cur == nil {
			outcome = Created
		}
		var have []int64
		if cur != nil {
			have = cur.GroupIDs()
		}
		if im.Opt.DryRun {
			if e := im.dryRunCheck(KindUser, ch, userID(cur)); e != nil {
				r.fail(e)
				continue
			}
			im.sayChange(outcome, KindUser, r, cur, ch)
			r.outcome = outcome
			im.countMemberships(r.id, login, have, desired, by)
			continue
		}
		r, desired, by := r, desired, by
		items = append(items, &wItem[client.User]{
			raw: ch.encode(KindUser),
			ok: func(u *client.User) {
				r.outcome, r.id = outcome, u.User.ID
				im.uix.put(u)
				im.countMemberships(u.User.ID, login, have, desired, by)
			},
			fail: r.fail,
		})
	}
	if err := sendAll(ctx, im, "users", items, im.C.WriteUsers); err != nil {
		return err
	}

	// Users that are not in the file, whose groups the members lists change.
	if len(mp.authoritative) == 0 {
		return nil
	}
	var mitems []*wItem[client.User]
	for i := range existing {
		u := &existing[i]
		if claimed[u.User.ID] || u.User.Login == nil {
			continue
		}
		desired, by := mp.apply(u.GroupIDs(), *u.User.Login)
		if len(by) == 0 {
			continue
		}
		ch := userChange(nil, u, desired)
		if ch.empty() {
			continue
		}
		have := u.GroupIDs()
		if im.Opt.DryRun {
			im.say("update user #%d login=%q (memberships): _groups", u.User.ID, *u.User.Login)
			im.countMemberships(u.User.ID, *u.User.Login, have, desired, by)
			continue
		}
		login := *u.User.Login
		mitems = append(mitems, &wItem[client.User]{
			raw: ch.encode(KindUser),
			ok: func(nu *client.User) {
				im.uix.put(nu)
				im.countMemberships(nu.User.ID, login, have, desired, by)
			},
			fail: func(e *client.Error) {
				// The group items whose members lists asked for the change
				// did not get it: they failed, with the user named.
				e2 := *e
				e2.Parameters = map[string]string{"login": login}
				for k, v := range e.Parameters {
					e2.Parameters[k] = v
				}
				for _, r := range by {
					r.fail(&e2)
				}
			},
		})
	}
	return sendAll(ctx, im, "memberships", mitems, im.C.WriteUsers)
}

// countMemberships counts the membership changes of one user write, names
// each removal in the report (a re-import takes away memberships added by
// hand, and whoever reads the report must be able to see which), and marks
// the group items that asked for them.
func (im *Importer) countMemberships(userID int64, login string, have, want []int64, by []*Record) {
	if want == nil {
		return
	}
	h := map[int64]bool{}
	for _, id := range have {
		h[id] = true
	}
	w := map[int64]bool{}
	for _, id := range want {
		w[id] = true
		if !h[id] {
			im.rep.Memberships.Added++
		}
	}
	for _, id := range have {
		if !w[id] {
			im.rep.Memberships.Removed++
			rm := MembershipChange{UserID: userID, Login: login, GroupID: id}
			if g := im.gix.byID[id]; g != nil {
				rm.Group = g.Label()
				rm.GroupReference = deref(g.Group.Reference)
			}
			im.rep.Memberships.Removals = append(im.rep.Memberships.Removals, rm)
		}
	}
	for _, r := range by {
		r.membersApplied = true
	}
}

// union is a followed by the ids of b that a lacks.
func union(a, b []int64) []int64 {
	out := append([]int64{}, a...)
	has := map[int64]bool{}
	for _, id := range a {
		has[id] = true
	}
	for _, id := range b {
		if !has[id] {
			has[id] = true
			out = append(out, id)
		}
	}
	return out
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// --- batches ------------------------------------------------------------------

// sendAll sends items in batches of Opt.BatchSize, Opt.Parallel at a time.
// An item the server refuses (parameters.index) is dropped and its batch
// sent again without it; any other error stops everything.
func sendAll[T any](ctx context.Context, im *Importer, label string, items []*wItem[T],
	send func(context.Context, any) ([]T, error)) error {
	if len(items) == 0 {
		return nil
	}
	var prog Progress = nopProgress{}
	if im.Opt.NewProgress != nil {
		prog = im.Opt.NewProgress(label, len(items))
	}
	defer prog.Done()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan []*wItem[T])
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for w := 0; w < im.Opt.Parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				if err := sendBatch(ctx, im, b, send, prog, 0); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
				}
			}
		}()
	}
feed:
	for i := 0; i < len(items); i += im.Opt.BatchSize {
		end := min(i+im.Opt.BatchSize, len(items))
		select {
		case work <- append([]*wItem[T](nil), items[i:end]...):
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// sendBatch sends one batch until it is written or all its items failed.
// After a few refused items in one batch it is split in halves, so that a
// file with many bad items costs about log(batch) requests per bad item
// rather than a whole batch each.
func sendBatch[T any](ctx context.Context, im *Importer, items []*wItem[T],
	send func(context.Context, any) ([]T, error), prog Progress, depth int) error {
	refused := 0
	for len(items) > 0 {
		raws := make([]json.RawMessage, len(items))
		for i, it := range items {
			raws[i] = it.raw
		}
		out, err := send(ctx, client.RawArray(raws))
		if err == nil {
			if len(out) != len(items) {
				return fmt.Errorf("the server answered %d items for %d sent", len(out), len(items))
			}
			im.mu.Lock()
			for i, it := range items {
				it.ok(&out[i])
			}
			prog.Add(len(items))
			im.mu.Unlock()
			return nil
		}
		var e *client.Error
		if !errors.As(err, &e) || e.IsServer() || e.Index() < 0 || e.Index() >= len(items) {
			return err
		}
		idx := e.Index()
		im.mu.Lock()
		items[idx].fail(e)
		prog.Add(1)
		im.mu.Unlock()
		items = append(items[:idx], items[idx+1:]...)
		refused++
		if refused >= 3 && len(items) >= 16 {
			half := len(items) / 2
			if err := sendBatch(ctx, im, items[:half], send, prog, depth+1); err != nil {
				return err
			}
			return sendBatch(ctx, im, items[half:], send, prog, depth+1)
		}
	}
	return nil
}

type nopProgress struct{}

func (nopProgress) Add(int) {}
func (nopProgress) Done()   {}
