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
			b, err := json.MarshalIndent(rep, "", "  ")
			if err == nil {
				err = os.WriteFile(*reportPath, append(b, '\n'), 0o644)
			}
			if err != nil {
				fmt.Fprintln(a.stderr, "groupctl: writing the report:", err)
			}
		}
		if a.json {
			if err := a.printJSON(rep); err != nil {
				fmt.Fprintln(a.stderr, "groupctl: printing the report:", err)
			}
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
	if _, err := a.parse(fs, args, 0, 0); err != nil {
		return err
	}
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
// Both show the rate over the last rateWindow (rateMeter), and both stop
// where they are when the work stops early (Ctrl-C): Done never fills the
// bar.
func (a *app) newProgress(label string, total int) batch.Progress {
	start := time.Now()
	if a.stderrTerminal != nil && a.stderrTerminal() {
		bar := progressbar.NewOptions(total,
			progressbar.OptionSetWriter(a.stderr),
			progressbar.OptionSetDescription(label+" (- items/s)"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetElapsedTime(false),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(a.stderr) }),
			progressbar.OptionFullWidth(),
		)
		return &barProgress{bar: bar, label: label, total: total, meter: newRateMeter(start)}
	}
	return &lineProgress{w: a.stderr, label: label, total: total, last: start, meter: newRateMeter(start)}
}

// rateWindow is how far back the rate shown looks: long enough to smooth
// over one bulk request, short enough to follow a change of pace.
const rateWindow = 5 * time.Second

// minRateSpan is the least time a rate is measured over; before it, no
// rate is shown (one batch answered 12 microseconds after the start is no
// rate of 83 million items a second).
const minRateSpan = time.Second

// rateMeter measures items per second over a sliding window of samples.
type rateMeter struct {
	samples []rateSample // oldest first; the first is kept until the window has passed it
}

type rateSample struct {
	at   time.Time
	done int
}

func newRateMeter(start time.Time) *rateMeter {
	return &rateMeter{samples: []rateSample{{start, 0}}}
}

// add records that done items are finished at now.
func (m *rateMeter) add(now time.Time, done int) {
	m.samples = append(m.samples, rateSample{now, done})
	// Keep one sample at or before the window's start, so that the span
	// covers the whole window.
	cut := 0
	for cut+1 < len(m.samples) && now.Sub(m.samples[cut+1].at) >= rateWindow {
		cut++
	}
	m.samples = m.samples[cut:]
}

// rate is the items per second over the window, and false while the
// samples span less than minRateSpan.
func (m *rateMeter) rate(now time.Time) (float64, bool) {
	first, last := m.samples[0], m.samples[len(m.samples)-1]
	span := now.Sub(first.at)
	if span < minRateSpan {
		return 0, false
	}
	return float64(last.done-first.done) / span.Seconds(), true
}

// describe is "N items/s, ETA D", or "- items/s" before there is a rate.
func (m *rateMeter) describe(now time.Time, done, total int) string {
	r, ok := m.rate(now)
	if !ok {
		return "- items/s" // not measured yet
	}
	s := fmt.Sprintf("%.0f items/s", r)
	if r > 0 && done < total {
		s += fmt.Sprintf(", ETA %s", time.Duration(float64(total-done)/r*float64(time.Second)).Round(time.Second))
	}
	return s
}

// barProgress draws at most every barThrottle itself (the library's own
// throttle would drop the last state before an early stop).
type barProgress struct {
	bar         *progressbar.ProgressBar
	label       string
	total, done int
	meter       *rateMeter
	drawn       time.Time
}

const barThrottle = 100 * time.Millisecond

func (p *barProgress) Add(n int) {
	now := time.Now()
	p.done += n
	p.meter.add(now, p.done)
	if now.Sub(p.drawn) >= barThrottle || p.done >= p.total {
		p.draw(now)
	}
}

func (p *barProgress) draw(now time.Time) {
	p.drawn = now
	p.bar.Describe(p.label + " (" + p.meter.describe(now, p.done, p.total) + ")")
	_ = p.bar.Set(p.done)
}

func (p *barProgress) Done() {
	if p.done >= p.total {
		_ = p.bar.Finish()
		return
	}
	p.draw(time.Now())
	_ = p.bar.Exit() // stopped early: the bar stays where the work stopped
}

type lineProgress struct {
	mu          sync.Mutex
	w           io.Writer
	label       string
	total, done int
	last        time.Time
	printed     bool
	meter       *rateMeter
}

func (p *lineProgress) Add(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	p.done += n
	p.meter.add(now, p.done)
	if now.Sub(p.last) >= 2*time.Second || p.done >= p.total || !p.printed {
		p.print(now)
	}
}

func (p *lineProgress) print(now time.Time) {
	p.last, p.printed = now, true
	fmt.Fprintf(p.w, "%s: %d/%d items (%d%%), %s\n", p.label, p.done, p.total, 100*p.done/max(p.total, 1),
		p.meter.describe(now, p.done, p.total))
}

// Done prints where the work stopped when that is short of the end (the
// end itself was printed by Add).
func (p *lineProgress) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done < p.total && p.printed {
		p.print(time.Now())
	}
}
