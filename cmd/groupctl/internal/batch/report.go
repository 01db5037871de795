package batch

import (
	"fmt"
	"io"
	"sort"
)

// Counts is how many items ended how.
type Counts struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Failed    int `json:"failed"`
	Pending   int `json:"pending,omitempty"`
	Deleted   int `json:"deleted,omitempty"` // by --prune
}

// Report is the outcome of an import, as --report writes it. The top-level
// counts are over all items of the file (groups and users); every failed
// item is in Failures, ordered by line.
type Report struct {
	Counts
	Groups      Counts `json:"groups"`
	Users       Counts `json:"users"`
	Memberships struct {
		Added   int `json:"added"`
		Removed int `json:"removed"`
		// Removals names each membership removed (a dry run: to be removed).
		Removals []MembershipChange `json:"removals"`
	} `json:"memberships"`
	Failures     []Failure `json:"failures"`
	DryRun       bool      `json:"dry_run"`
	Interrupted  bool      `json:"interrupted,omitempty"`
	PruneSkipped string    `json:"prune_skipped,omitempty"`
	// PruneRefused says why --prune deleted nothing (--max-delete); the
	// entries it would have deleted are then in Deletions all the same.
	PruneRefused string `json:"prune_refused,omitempty"`
	// Deletions names every entry --prune deleted (a dry run: would delete).
	Deletions []Deletion `json:"deletions"`
	Items     int        `json:"items"`
	Seconds   float64    `json:"seconds"`
}

// MembershipChange is one static membership: a user in a group.
type MembershipChange struct {
	UserID         int64  `json:"user_id,omitempty"` // 0 in a dry run for a user not created yet
	Login          string `json:"login"`
	GroupID        int64  `json:"group_id"`
	Group          string `json:"group,omitempty"`
	GroupReference string `json:"group_reference,omitempty"`
}

// Failure is one item that was not written, with the easydb error that
// refused it (found by the server, or by groupctl before sending, in the
// server's words).
type Failure struct {
	Line        int               `json:"line"` // 0: not from the file (a --prune delete)
	Kind        Kind              `json:"kind"`
	Reference   string            `json:"reference,omitempty"`
	Name        string            `json:"name,omitempty"`
	ID          int64             `json:"id,omitempty"`
	Code        string            `json:"code"`
	Parameters  map[string]string `json:"parameters,omitempty"`
	Description string            `json:"description,omitempty"`
}

func (c *Counts) add(outcome string) {
	switch outcome {
	case Created:
		c.Created++
	case Updated:
		c.Updated++
	case Unchanged:
		c.Unchanged++
	case Failed:
		c.Failed++
	case Pending:
		c.Pending++
	}
}

// tally fills the counts and failures from the records.
func (rep *Report) tally(recs []*Record) {
	for _, r := range recs {
		o := r.Outcome()
		rep.Items++
		rep.Counts.add(o)
		switch r.Kind {
		case KindUser:
			rep.Users.add(o)
		default:
			rep.Groups.add(o)
		}
		if r.failure != nil {
			rep.Failures = append(rep.Failures, failureOf(r))
		}
	}
	rep.Failed = rep.Groups.Failed + rep.Users.Failed + countPrune(rep.Failures)
	sort.SliceStable(rep.Failures, func(i, j int) bool { return rep.Failures[i].Line < rep.Failures[j].Line })
	rm := rep.Memberships.Removals // written by batches in the order they were answered
	sort.Slice(rm, func(i, j int) bool {
		if rm[i].Login != rm[j].Login {
			return rm[i].Login < rm[j].Login
		}
		return rm[i].GroupID < rm[j].GroupID
	})
}

func countPrune(fs []Failure) int {
	n := 0
	for _, f := range fs {
		if f.Line == 0 {
			n++
		}
	}
	return n
}

func failureOf(r *Record) Failure {
	kind := r.Kind
	if kind == "" {
		kind = "item"
	}
	f := Failure{Line: r.Line, Kind: kind, Reference: r.Reference(), Name: r.Name(), Code: r.failure.Code,
		Description: r.failure.Description}
	if r.id > 0 {
		f.ID = r.id
	}
	for k, v := range r.failure.Parameters {
		if k == "index" {
			continue // a position in one request, meaningless here
		}
		if f.Parameters == nil {
			f.Parameters = map[string]string{}
		}
		f.Parameters[k] = v
	}
	return f
}

// refusedListed is how many entries of a refused --prune the text report
// names.
const refusedListed = 20

// WriteText writes the report for people.
func (rep *Report) WriteText(w io.Writer) {
	verb := ""
	if rep.DryRun {
		verb = " (dry run: nothing written)"
	}
	fmt.Fprintf(w, "%d items in %.1fs%s: %d created, %d updated, %d unchanged, %d failed", rep.Items, rep.Seconds, verb,
		rep.Created, rep.Updated, rep.Unchanged, rep.Failed)
	if rep.Deleted > 0 {
		fmt.Fprintf(w, ", %d deleted", rep.Deleted)
	}
	if rep.Pending > 0 {
		fmt.Fprintf(w, ", %d not reached", rep.Pending)
	}
	fmt.Fprintln(w)
	for _, k := range []struct {
		name string
		c    Counts
	}{{"groups", rep.Groups}, {"users", rep.Users}} {
		c := k.c
		if c == (Counts{}) {
			continue
		}
		fmt.Fprintf(w, "  %-7s %d created, %d updated, %d unchanged, %d failed", k.name+":", c.Created, c.Updated,
			c.Unchanged, c.Failed)
		if c.Deleted > 0 {
			fmt.Fprintf(w, ", %d deleted", c.Deleted)
		}
		fmt.Fprintln(w)
	}
	if m := rep.Memberships; m.Added+m.Removed > 0 {
		fmt.Fprintf(w, "  memberships: %d added, %d removed\n", m.Added, m.Removed)
	}
	for _, m := range rep.Memberships.Removals {
		verb := "REMOVED"
		if rep.DryRun {
			verb = "WOULD REMOVE"
		}
		fmt.Fprintf(w, "  %s %s from group #%d %q", verb, m.Login, m.GroupID, m.Group)
		if m.GroupReference != "" {
			fmt.Fprintf(w, " reference=%q", m.GroupReference)
		}
		fmt.Fprintln(w)
	}
	if rep.PruneSkipped != "" {
		fmt.Fprintf(w, "  prune skipped: %s\n", rep.PruneSkipped)
	}
	if rep.PruneRefused != "" {
		fmt.Fprintf(w, "  prune refused, nothing deleted: %s\n", rep.PruneRefused)
	}
	verbDel := "DELETED"
	if rep.PruneRefused != "" {
		verbDel = "NOT DELETED"
	}
	for i, d := range rep.Deletions {
		if rep.DryRun {
			break // the plan above named each one
		}
		// Every deletion made is named; a refused plan, which may be the
		// whole directory, only starts the list (the JSON report has all).
		if rep.PruneRefused != "" && i == refusedListed {
			fmt.Fprintf(w, "  ... and %d more (--report FILE lists them all)\n", len(rep.Deletions)-i)
			break
		}
		fmt.Fprintf(w, "  %s %s #%d reference=%q", verbDel, d.Kind, d.ID, d.Reference)
		if d.Name != "" {
			fmt.Fprintf(w, " name=%q", d.Name)
		}
		fmt.Fprintln(w)
	}
	if rep.Interrupted {
		fmt.Fprintln(w, "  interrupted: run the same import again to finish it")
	}
	for _, f := range rep.Failures {
		where := fmt.Sprintf("line %d", f.Line)
		if f.Line == 0 {
			where = fmt.Sprintf("%s #%d", f.Kind, f.ID)
		}
		fmt.Fprintf(w, "  FAILED %s", where)
		if f.Reference != "" {
			fmt.Fprintf(w, " reference=%q", f.Reference)
		}
		if f.Name != "" {
			fmt.Fprintf(w, " name=%q", f.Name)
		}
		fmt.Fprintf(w, ": %s", f.Code)
		if len(f.Parameters) > 0 {
			keys := sortedKeys(f.Parameters)
			sep := " ("
			for _, k := range keys {
				fmt.Fprintf(w, "%s%s=%s", sep, k, f.Parameters[k])
				sep = ", "
			}
			fmt.Fprint(w, ")")
		}
		if f.Description != "" {
			fmt.Fprintf(w, ": %s", f.Description)
		}
		fmt.Fprintln(w)
	}
}
