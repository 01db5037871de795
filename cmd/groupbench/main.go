// Command groupbench measures groupd the way its users load it, against
// floors measured in the same run on the same machine: it builds a dataset
// through the public API (users and big memberships through COPY, the bulk
// path, until the user API exists), runs bounded loads on loopback only, and
// prints one table of throughput, p50/p99 latency and the ratio to each
// scenario's floor. With -write it also updates docs/benchmarks.md and
// docs/bench.svg.
//
// groupd runs as a separate process (this binary, re-executed), so that its
// peak RSS is its own; the floors run in this process.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/groupd/groupd/db"
	"github.com/groupd/groupd/passwords"
	"github.com/groupd/groupd/server"
)

type scale struct {
	Name        string
	Groups      int
	Users       int
	ACLPerGroup int
	BigGroups   int // groups with BigMembers members each
	BigMembers  int
	Window      time.Duration // length of each timed load
	Mixed       time.Duration // length of each mixed load (four: groupd and floor, closed and open)
	PutRounds   int           // scenario 3's rounds (the medians are compared)
}

var scales = map[string]scale{
	"small": {"small", 1000, 1000, 10, 2, 1000, 4 * time.Second, 10 * time.Second, 1},
	"large": {"large", 100000, 100000, 10, 3, 100000, 8 * time.Second, 30 * time.Second, 3},
}

const benchPassword = "bench-password"

func main() {
	if os.Getenv("GROUPBENCH_SERVE") == "1" {
		os.Exit(serve())
	}
	scaleName := flag.String("scale", "small", "dataset size: small (10^3 groups) or large (10^5 groups, 10^5 users, 10^6 ACL entries)")
	write := flag.Bool("write", false, "write the results to docs/benchmarks.md and docs/bench.svg")
	docs := flag.String("docs", "docs", "directory of benchmarks.md and bench.svg")
	only := flag.String("only", "", "run only these scenarios, e.g. 1,4 (default: all)")
	keep := flag.Bool("keep", false, "after building the dataset, print groupd's URL and database and wait (for profiling)")
	profileDir := flag.String("profile", "", "write, per profiled scenario (1, 3, 4, 6b), groupd's CPU profile and the statements "+
		"PostgreSQL ran (pg_stat_statements) into this directory; with -url, groupd's pprof address comes from GROUPD_PPROF_ADDR")
	var tgt target
	flag.StringVar(&tgt.URL, "url", "", "a running groupd to measure (default: start one on a managed PostgreSQL); needs -database-url")
	flag.StringVar(&tgt.DatabaseURL, "database-url", "", "with -url: its database, for the floors and the dataset's users")
	flag.StringVar(&tgt.RootPassword, "root-password", os.Getenv("GROUPD_ROOT_PASSWORD"), "with -url: root's password (env GROUPD_ROOT_PASSWORD)")
	flag.DurationVar(&soakDuration, "soak", 0, "instead of the benchmark, run the mixed load at half capacity for this long, "+
		"printing RSS, goroutines, database connections, p99 and 5xx every minute (make soak)")
	flag.Parse()
	sc, ok := scales[*scaleName]
	if !ok {
		fmt.Fprintln(os.Stderr, "groupbench: -scale must be small or large")
		os.Exit(2)
	}
	if (tgt.URL == "") != (tgt.DatabaseURL == "") || (tgt.URL != "" && tgt.RootPassword == "") {
		fmt.Fprintln(os.Stderr, "groupbench: -url needs -database-url and -root-password, and -database-url needs -url")
		os.Exit(2)
	}
	if err := runBench(sc, tgt, *write, *docs, *keep, *only, *profileDir); err != nil {
		fmt.Fprintln(os.Stderr, "groupbench:", err)
		os.Exit(1)
	}
}

// logTail is the end of groupd's log, shown when the benchmark fails.
func logTail(path string) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

// serve is the groupd process of the benchmark.
func serve() int {
	cfg := server.DefaultConfig()
	cfg.Addr = os.Getenv("GROUPD_ADDR")
	cfg.DatabaseURL = os.Getenv("GROUPD_DATABASE_URL")
	cfg.RootPassword = os.Getenv("GROUPD_ROOT_PASSWORD")
	cfg.PprofAddr = os.Getenv("GROUPD_PPROF_ADDR")
	cfg.KanboardAPIToken = os.Getenv("GROUPD_KANBOARD_API_TOKEN")
	m := server.NewMain(cfg)
	if err := m.Open(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "groupbench serve:", err)
		return 1
	}
	select {} // killed by the parent
}

type bench struct {
	sc      scale
	base    string // groupd's URL
	dbURL   string
	db      *sql.DB
	floor   *floorServer
	rootTok string
	// rootPassword is root's password on the target
	rootPassword string
	readTok      string
	readers      int64   // the group whose members see 10% of the groups
	visible      []int64 // groups the reader sees (and may write)
	allIDs       []int64
	rows         []row
	serverPID    int       // 0 when the target was already running (-url)
	profile      *profiler // nil without -profile
	// runID makes the names of what a run creates its own, so that runs
	// can repeat on one dataset (-url)
	runID int64
}

type row struct {
	Scenario     string
	Groupd       result
	Floor        result
	FloorName    string
	RatioIsSpeed bool // ratio = throughput / floor throughput (else floor time / groupd time... see note)
	Note         string
	Paced        bool // an open loop at a fixed rate: compare latencies, not throughputs
}

// target is where the benchmark runs: a groupd it started itself on a
// managed PostgreSQL, or one already running (-url, -database-url).
type target struct {
	URL, DatabaseURL, RootPassword string
}

func runBench(sc scale, tgt target, write bool, docsDir string, keep bool, only, profileDir string) (err error) {
	ctx := context.Background()
	b := &bench{sc: sc, base: tgt.URL, dbURL: tgt.DatabaseURL, rootPassword: tgt.RootPassword, runID: time.Now().Unix()}
	var logFile *os.File
	pprofAddr := os.Getenv("GROUPD_PPROF_ADDR")
	if tgt.URL == "" {
		dir, setupErr := os.MkdirTemp("", "groupbench-")
		if setupErr != nil {
			return setupErr
		}
		defer os.RemoveAll(dir)
		quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
		settings := map[string]string{"max_connections": "300", "shared_buffers": "512MB"}
		if profileDir != "" {
			for k, v := range profileSettings {
				settings[k] = v
			}
			if pprofAddr, setupErr = freeAddr(); setupErr != nil {
				return setupErr
			}
		}
		pg, setupErr := db.StartManaged(ctx, db.ManagedOptions{Dir: dir, Log: quiet, Settings: settings})
		if setupErr != nil {
			return setupErr
		}
		defer pg.Stop()
		b.dbURL, b.rootPassword = pg.URL("groupd"), benchPassword

		addr, setupErr := freeAddr()
		if setupErr != nil {
			return setupErr
		}
		self, setupErr := os.Executable()
		if setupErr != nil {
			return setupErr
		}
		if logFile, setupErr = os.Create(filepath.Join(dir, "groupd.log")); setupErr != nil {
			return setupErr
		}
		defer logFile.Close()
		srv := exec.Command(self)
		srv.Env = append(os.Environ(), "GROUPBENCH_SERVE=1", "GROUPD_ADDR="+addr, "GROUPD_DATABASE_URL="+b.dbURL,
			"GROUPD_ROOT_PASSWORD="+benchPassword, "GROUPD_KANBOARD_API_TOKEN="+kanboardToken(), "GROUPD_PPROF_ADDR="+pprofAddr)
		srv.Stdout, srv.Stderr = logFile, logFile
		if startErr := srv.Start(); startErr != nil {
			return startErr
		}
		defer func() { srv.Process.Kill(); srv.Wait() }()
		b.serverPID = srv.Process.Pid
		b.base = "http://" + addr
	}
	if waitReadyErr := waitReady(b.base); waitReadyErr != nil {
		return fmt.Errorf("%w (see the groupd log)", waitReadyErr)
	}
	if b.db, err = sql.Open("postgres", b.dbURL); err != nil {
		return err
	}
	defer b.db.Close()
	if profileDir != "" {
		if pprofAddr == "" {
			return fmt.Errorf("-profile with -url needs groupd's pprof address in GROUPD_PPROF_ADDR")
		}
		if b.profile, err = newProfiler(profileDir, pprofAddr, b.db); err != nil {
			return err
		}
	}
	if b.floor, err = startFloor(b.dbURL); err != nil {
		return err
	}
	defer b.floor.Close()

	defer func() {
		if err != nil && logFile != nil {
			fmt.Fprintf(os.Stderr, "groupd log (last lines):\n%s\n", logTail(logFile.Name()))
		}
	}()
	fmt.Printf("groupbench: scale %s (%d groups, %d users, %d ACL entries, %d groups of %d members), %d CPUs, %s\n",
		sc.Name, sc.Groups, sc.Users, sc.Groups*sc.ACLPerGroup, sc.BigGroups, sc.BigMembers, runtime.NumCPU(),
		time.Now().UTC().Format("2006-01-02"))
	t0 := time.Now()
	if datasetErr := b.dataset(); datasetErr != nil {
		return fmt.Errorf("dataset: %w", datasetErr)
	}
	fmt.Printf("dataset built in %v\n", time.Since(t0).Round(time.Millisecond))
	if keep {
		fmt.Printf("groupd %s (pprof %s), database %s, floor %s\nreader token %s, root token %s\n"+
			"run again on this dataset: groupbench -scale=%s -url %s -database-url '%s' -root-password %s\nCtrl-C to end\n",
			b.base, pprofAddr, b.dbURL, b.floor.url, b.readTok, b.rootTok,
			sc.Name, b.base, b.dbURL, b.rootPassword)
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		return nil
	}

	if soakDuration > 0 {
		return b.soak(soakDuration)
	}
	b.floor.visible = b.visible
	for i, s := range []func() error{b.getByID, b.listing, b.bulkPut, b.updates, b.sessions, b.mixed,
		b.objectMove, b.objectList, b.kanboard} {
		if only != "" && !strings.Contains(","+only+",", ","+strconv.Itoa(i+1)+",") {
			continue
		}
		if scenarioErr := s(); scenarioErr != nil {
			return scenarioErr
		}
	}
	mem, err := memory(b.serverPID, b.base)
	if err != nil {
		return err
	}
	table := b.table(mem)
	fmt.Print(table)
	if write {
		return b.writeDocs(docsDir, table)
	}
	return nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitReady(base string) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("groupd not ready within 60s")
}

// login runs the easydb session flow and returns the token.
func login(base, user, password string) (string, error) {
	resp, err := http.Get(base + "/api/v1/session")
	if err != nil {
		return "", err
	}
	var s struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&s)
	resp.Body.Close()
	q := url.Values{"token": {s.Token}, "login": {user}, "password": {password}}
	resp, err = http.Post(base+"/api/v1/session/authenticate?"+q.Encode(), "", nil)
	if err != nil {
		return "", err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("login %s: %d %s", user, resp.StatusCode, body)
	}
	return s.Token, nil
}

// --- the dataset -----------------------------------------------------------

type benchACL struct {
	User, Group int64
	Rights      map[string]struct{}
	mask        int
}

func (e benchACL) whoUser() any {
	if e.User == 0 {
		return nil
	}
	return e.User
}

func (e benchACL) whoGroup() any {
	if e.Group == 0 {
		return nil
	}
	return e.Group
}

type benchGroup struct {
	Name        string
	Reference   string
	Displayname map[string]string
	ACL         []benchACL
}

// makeGroups returns n groups named from prefix; every tenth one has an ACL
// entry giving the readers group bag_write (hence bag_read), so that a reader
// sees 10% of the groups; the other entries give random users bag_read.
func (b *bench) makeGroups(prefix string, n int, firstUser int64) []benchGroup {
	gs := make([]benchGroup, n)
	for i := range gs {
		g := benchGroup{Name: fmt.Sprintf("%s-%07d", prefix, i), Reference: fmt.Sprintf("%s-ref-%07d", prefix, i),
			Displayname: map[string]string{"en-US": fmt.Sprintf("%s group %d", prefix, i), "de-DE": fmt.Sprintf("%s Gruppe %d", prefix, i)}}
		for pos := 0; pos < b.sc.ACLPerGroup; pos++ {
			if pos == 0 && i%10 == 0 {
				g.ACL = append(g.ACL, benchACL{Group: b.readers, Rights: map[string]struct{}{"bag_write": {}}, mask: 3})
				continue
			}
			u := firstUser + int64((i*7919+pos*104729)%b.sc.Users)
			g.ACL = append(g.ACL, benchACL{User: u, Rights: map[string]struct{}{"bag_read": {}}, mask: 1})
		}
		gs[i] = g
	}
	return gs
}

func groupsJSON(gs []benchGroup) []byte {
	items := make([]map[string]any, len(gs))
	for i, g := range gs {
		acl := make([]map[string]any, len(g.ACL))
		for j, e := range g.ACL {
			who := map[string]any{"user": map[string]int64{"_id": e.User}}
			if e.Group != 0 {
				who = map[string]any{"group": map[string]int64{"_id": e.Group}}
			}
			acl[j] = map[string]any{"who": who, "rights": e.Rights}
		}
		items[i] = map[string]any{"_basetype": "group", "group": map[string]any{"_version": 1, "name": g.Name,
			"reference": g.Reference, "displayname": g.Displayname}, "_acl": acl}
	}
	body, _ := json.Marshal(items)
	return body
}

func (b *bench) put(body []byte) (result, []int64, error) {
	client := newClient(1)
	t0 := time.Now()
	resp, err := client.Do(withBody(http.MethodPut, b.base+"/api/v1/group", body, "x-easydb-token", b.rootTok))
	if err != nil {
		return result{}, nil, err
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	el := time.Since(t0)
	if resp.StatusCode != 200 {
		return result{}, nil, fmt.Errorf("PUT: %d %.300s", resp.StatusCode, raw)
	}
	var out []struct {
		Group struct {
			ID int64 `json:"_id"`
		} `json:"group"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return result{}, nil, err
	}
	ids := make([]int64, len(out))
	for i, g := range out {
		ids[i] = g.Group.ID
	}
	return result{Requests: 1, Elapsed: el, P50: el, P99: el}, ids, nil
}

func (b *bench) dataset() error {
	var err error
	if b.rootTok, err = login(b.base, "root", b.rootPassword); err != nil {
		return err
	}
	if found, existingDatasetErr := b.existingDataset(); existingDatasetErr != nil || found {
		return existingDatasetErr
	}
	// Users through COPY (the bulk path; the user API is another issue's).
	hash, err := passwords.Hash(benchPassword)
	if err != nil {
		return err
	}
	tx, err := b.db.Begin()
	if err != nil {
		return err
	}
	stmt, err := tx.Prepare("COPY users (login, password_hash, system_rights, owner_user_id) FROM STDIN")
	if err != nil {
		return err
	}
	if _, execErr := stmt.Exec("reader", hash, `{"system.group":{}}`, 1); execErr != nil {
		return execErr
	}
	for i := 1; i < b.sc.Users; i++ {
		if _, execErr := stmt.Exec(fmt.Sprintf("user-%07d", i), nil, "{}", 1); execErr != nil {
			return execErr
		}
	}
	if _, execErr := stmt.Exec(); execErr != nil {
		return execErr
	}
	stmt.Close()
	if commitErr := tx.Commit(); commitErr != nil {
		return commitErr
	}
	var readerID, firstUser int64
	if scanErr := b.db.QueryRow(`SELECT id FROM users WHERE login = 'reader'`).Scan(&readerID); scanErr != nil {
		return scanErr
	}
	firstUser = readerID

	// The readers group through the API, the reader in it.
	_, ids, err := b.put([]byte(`[{"group":{"name":"readers"}}]`))
	if err != nil {
		return err
	}
	b.readers = ids[0]
	if _, execErr := b.db.Exec(`INSERT INTO memberships (group_id, user_id) VALUES ($1, $2)`, b.readers, readerID); execErr != nil {
		return execErr
	}

	// Groups through PUT, 10,000 per request.
	all := b.makeGroups("g", b.sc.Groups, firstUser)
	for start := 0; start < len(all); start += 10000 {
		end := min(start+10000, len(all))
		_, ids, putErr := b.put(groupsJSON(all[start:end]))
		if putErr != nil {
			return putErr
		}
		for i, id := range ids {
			b.allIDs = append(b.allIDs, id)
			if (start+i)%10 == 0 {
				b.visible = append(b.visible, id)
			}
		}
	}
	// Big groups: BigMembers members each, through COPY.
	for k := 0; k < b.sc.BigGroups; k++ {
		gid := b.allIDs[1+k]
		if _, execErr := b.db.Exec(`INSERT INTO memberships (group_id, user_id)
			SELECT $1, id FROM users WHERE id NOT IN (1, $3) ORDER BY id LIMIT $2`, gid, b.sc.BigMembers, readerID); execErr != nil {
			return execErr
		}
	}
	if _, execErr := b.db.Exec(`ANALYZE`); execErr != nil {
		return execErr
	}
	b.readTok, err = login(b.base, "reader", benchPassword)
	return err
}

// existingDataset picks up a dataset an earlier run left on the target
// (-url of a server whose -keep run built it), so that scenarios can be run
// again without building it anew. A dataset of another scale is an error.
func (b *bench) existingDataset() (bool, error) {
	var readerID int64
	err := b.db.QueryRow(`SELECT id FROM users WHERE login = 'reader'`).Scan(&readerID)
	if err == sql.ErrNoRows {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if scanErr := b.db.QueryRow(`SELECT id FROM groups WHERE name = 'readers'`).Scan(&b.readers); scanErr != nil {
		return false, fmt.Errorf("a user reader exists but no group readers: not a groupbench dataset (%w)", scanErr)
	}
	rows, err := b.db.Query(`SELECT id FROM groups WHERE name LIKE 'g-%' ORDER BY id`)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if scanErr := rows.Scan(&id); scanErr != nil {
			return false, scanErr
		}
		if len(b.allIDs)%10 == 0 {
			b.visible = append(b.visible, id)
		}
		b.allIDs = append(b.allIDs, id)
	}
	if rowsErr := rows.Err(); rowsErr != nil {
		return false, rowsErr
	}
	if len(b.allIDs) != b.sc.Groups {
		return false, fmt.Errorf("the target holds a groupbench dataset of %d groups, not the %d of -scale=%s", len(b.allIDs), b.sc.Groups, b.sc.Name)
	}
	fmt.Println("dataset: reusing the one on the target")
	b.readTok, err = login(b.base, "reader", benchPassword)
	return true, err
}
