package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/groupd/groupd/client"
	"github.com/groupd/groupd/cmd/groupctl/internal/batch"
	"github.com/schollz/progressbar/v3"
)

func (a *app) cmdImport(args []string) error {
	fs := a.flags("import", "FILE [flags]   (FILE - reads standard input)")
	format := fs.String("format", "", "json, ndjson or csv (default: from the file name, else from the content)")
	kind := fs.String("kind", "", "CSV only: groups or users (default: users when the header has a login column)")
	batchSize := fs.Int("batch-size", batch.DefaultBatchSize, "items per bulk request")
	parallel := fs.Int("parallel", 2, "bulk requests in flight at once")
	dryRun := fs.Bool("dry-run", false, "print what would change, write nothing")
	prune := fs.Bool("prune", false, "delete synced groups (and, for a file with users, users) whose reference is not in the file")
	maxDelete := fs.String("max-delete", batch.DefaultMaxDelete, "--prune deletes at most N entries, or N% of the synced ones; more is refused and nothing is written")
	force := fs.Bool("force", false, "--prune: delete even beyond --max-delete")
	keepMemberships := fs.Bool("keep-memberships", false, "only add memberships: groups and members lists in the file are not the complete truth")
	reportPath := fs.String("report", "", "also write the report as JSON to this file")
	noProgress := fs.Bool("no-progress", false, "no progress display")
	pos, err := a.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if *batchSize < 1 || *parallel < 1 {
		return usagef("import: --batch-size and --parallel must be at least 1")
	}
	md, err := batch.ParseMaxDelete(*maxDelete)
	if err != nil {
		return usagef("import: %v", err)
	}
	var k batch.Kind
	switch *kind {
	case "":
	case "group", "groups":
		k = batch.KindGroup
	case "user", "users":
		k = batch.KindUser
	default:
		return usagef("import: --kind must be groups or users")
	}
	var data []byte
	if pos[0] == "-" {
		data, err = io.ReadAll(a.stdin)
	} else {
		data, err = os.ReadFile(pos[0])
	}
	if err != nil {
		return err
	}
	if *format == "" {
		*format = batch.DetectFormat(pos[0], data)
	}
	recs, err := batch.Read(data, *format, k)
	if err != nil {
		return err
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	c.Parallel = *parallel
	plan := a.stdout
	if a.json {
		plan = a.stderr // stdout is the report's
	}
	im := &batch.Importer{C: c, Opt: batch.Options{BatchSize: *batchSize, Parallel: *parallel, DryRun: *dryRun,
		Prune: *prune, MaxDelete: md, Force: *force, KeepMemberships: *keepMemberships, Out: plan}}
	if !*noProgress {
		im.Opt.NewProgress = a.newProgress
	}
	rep, runErr := im.Run(a.ctx, recs)
	if rep != nil {
		if *reportPath != "" {
			b, _ := json.MarshalIndent(rep, "", "  ")
			if err := os.WriteFile(*reportPath, append(b, '\n'), 0o644); err != nil {
				fmt.Fprintln(a.stderr, "groupctl: writing the report:", err)
			}
		}
		if a.json {
			_ = a.printJSON(rep)
		} else {
			out := a.stdout
			if runErr != nil {
				out = a.stderr
			}
			rep.WriteText(out)
		}
	}
	if runErr != nil {
		return runErr
	}
	if rep.Failed > 0 {
		return &exitError{exitPartial}
	}
	return nil
}

func (a *app) cmdExport(args []string) error {
	fs := a.flags("export", "[-o FILE] [flags]")
	format := fs.String("format", "", "json, ndjson or csv (default: from -o's name, else json)")
	kind := fs.String("kind", "", "all, groups or users (default: all; csv: groups)")
	outPath := fs.String("o", "", "write to this file (default: standard output)")
	members := fs.Bool("members", false, "CSV groups: add a members column (logins)")
	parallel := fs.Int("parallel", 2, "pages read at once")
	pos, err := a.parse(fs, args, 0, 0)
	if err != nil {
		return err
	}
	_ = pos
	if *format == "" {
		*format = batch.FormatJSON
		if *outPath != "" {
			*format = batch.DetectFormat(*outPath, nil)
		}
	}
	if *format != batch.FormatJSON && *format != batch.FormatNDJSON && *format != batch.FormatCSV {
		return usagef("export: --format must be json, ndjson or csv")
	}
	if *kind == "" {
		*kind = "all"
		if *format == batch.FormatCSV {
			*kind = "groups"
		}
	}
	*kind = strings.TrimSuffix(*kind, "s") // group(s), user(s)
	if *kind != "all" && *kind != "group" && *kind != "user" {
		return usagef("export: --kind must be all, groups or users")
	}
	if *format == batch.FormatCSV && *kind == "all" {
		return usagef("export: CSV holds groups or users: --kind groups or --kind users")
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	c.Parallel = *parallel
	groups, err := c.AllGroups(a.ctx, client.GroupFilter{}, nil)
	if err != nil {
		return err
	}
	var users []client.User
	if *kind != "group" || *members {
		users, err = c.AllUsers(a.ctx, client.UserFilter{}, nil)
		if err != nil {
			if client.CodeOf(err) == "error.user.no_system_right" && *kind == "all" {
				fmt.Fprintln(a.stderr, "groupctl: users left out:", err)
				err = nil
			} else {
				return err
			}
		}
	}
	ex := batch.NewExport(groups, users)
	ex.MembersColumn = *members
	switch *kind {
	case "group":
		ex.Users = nil
	case "user":
		ex.Groups = nil
	}
	var buf bytes.Buffer
	switch {
	case *format == batch.FormatCSV && *kind == "user":
		err = ex.WriteUsersCSV(&buf)
	case *format == batch.FormatCSV:
		err = ex.WriteGroupsCSV(&buf)
	default:
		err = ex.WriteJSON(&buf, *format == batch.FormatNDJSON)
	}
	if err != nil {
		return err
	}
	if *outPath == "" {
		_, err = a.stdout.Write(buf.Bytes())
		return err
	}
	if err := os.WriteFile(*outPath, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "exported %d groups and %d users to %s\n", len(ex.Groups), len(ex.Users),
		filepath.Clean(*outPath))
	return nil
}

// newProgress is a progress bar (items, rate, ETA) when standard error is a
// terminal, else a plain line at most every two seconds and at the end.
func (a *app) newProgress(label string, total int) batch.Progress {
	if a.stderrTerminal != nil && a.stderrTerminal() {
		bar := progressbar.NewOptions(total,
			progressbar.OptionSetWriter(a.stderr),
			progressbar.OptionSetDescription(label),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("items"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(a.stderr) }),
			progressbar.OptionFullWidth(),
		)
		return barProgress{bar}
	}
	return &lineProgress{w: a.stderr, label: label, total: total, start: time.Now()}
}

type barProgress struct{ bar *progressbar.ProgressBar }

func (p barProgress) Add(n int) { _ = p.bar.Add(n) }
func (p barProgress) Done()     { _ = p.bar.Finish() }

type lineProgress struct {
	mu          sync.Mutex
	w           io.Writer
	label       string
	total, done int
	start, last time.Time
}

func (p *lineProgress) Add(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	if time.Since(p.last) >= 2*time.Second || p.done >= p.total {
		p.print()
	}
}

func (p *lineProgress) print() {
	p.last = time.Now()
	el := time.Since(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(p.done) / el
	}
	eta := ""
	if rate > 0 && p.done < p.total {
		eta = fmt.Sprintf(", ETA %s", time.Duration(float64(p.total-p.done)/rate*float64(time.Second)).Round(time.Second))
	}
	fmt.Fprintf(p.w, "%s: %d/%d items (%d%%), %.0f items/s%s\n", p.label, p.done, p.total, 100*p.done/max(p.total, 1),
		rate, eta)
}

func (p *lineProgress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done < p.total && !p.last.IsZero() {
		p.print()
	}
}
