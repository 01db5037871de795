// Package dbtest gives tests a real PostgreSQL: one throwaway managed cluster
// per test binary (fsync off), a template database migrated once, and a fresh
// database cloned from it for every test that asks.
//
// A package that uses it calls dbtest.Main from its TestMain. There is no
// skip: when PostgreSQL cannot be started, the test binary fails.
package dbtest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/groupd/groupd/db"
)

const templateName = "groupd_template"

var (
	cluster *db.Managed
	counter atomic.Int64
)

// Main starts the cluster, runs the tests, stops the cluster and exits.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if fuzzWorker() {
		// A fuzzing worker runs only its fuzz target, which needs no
		// database: one cluster per worker would only cost start-up time.
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "groupd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "dbtest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	cluster, err = db.StartManaged(ctx, db.ManagedOptions{Dir: dir, NoFsync: true, Log: quiet,
		Settings: map[string]string{"max_connections": "400"}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "dbtest: cannot start PostgreSQL for the tests:", err)
		return 1
	}
	// The cluster's data is deleted next: no shutdown checkpoint.
	defer cluster.StopImmediately()
	if createDatabaseErr := cluster.CreateDatabase(ctx, templateName, ""); createDatabaseErr != nil {
		fmt.Fprintln(os.Stderr, "dbtest: create template:", createDatabaseErr)
		return 1
	}
	tdb, err := db.Open(ctx, cluster.URL(templateName), db.Options{MaxOpenConns: 2})
	if err != nil {
		fmt.Fprintln(os.Stderr, "dbtest:", err)
		return 1
	}
	err = tdb.Migrate(ctx, nil)
	tdb.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "dbtest: migrate template:", err)
		return 1
	}
	return m.Run()
}

// fuzzWorker reports whether this process is a worker of go test -fuzz.
func fuzzWorker() bool {
	for _, a := range os.Args[1:] {
		if strings.HasPrefix(a, "-test.fuzzworker") || strings.HasPrefix(a, "--test.fuzzworker") {
			return true
		}
	}
	return false
}

// Cluster is the test binary's PostgreSQL.
func Cluster() *db.Managed { return cluster }

// NewDatabaseURL creates a fresh, migrated database and returns its URL.
func NewDatabaseURL(tb testing.TB) string {
	tb.Helper()
	if cluster == nil {
		tb.Fatal("dbtest: no cluster: call dbtest.Main from TestMain")
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), counter.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cluster.CreateDatabase(ctx, name, templateName); err != nil {
		tb.Fatalf("dbtest: create database: %v", err)
	}
	return cluster.URL(name)
}

// MustOpenDB returns an open handle on a fresh, migrated database, closed
// when the test ends.
func MustOpenDB(tb testing.TB) *db.DB {
	tb.Helper()
	d, err := db.Open(context.Background(), NewDatabaseURL(tb), db.Options{MaxOpenConns: 16})
	if err != nil {
		tb.Fatalf("dbtest: open: %v", err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}
