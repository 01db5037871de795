package main

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// BenchmarkImportVsBulkPut compares groupctl import of 20,000 groups (CSV,
// batches of 1000, 2 in flight, the server's groups read first; and again
// with --parallel 1) with one
// bulk PUT of the same 20,000 groups, each on a fresh server. It reports
// both rates and their ratio (import / PUT); docs/benchmarks.md has the
// figures.
//
//	go test -run '^$' -bench ImportVsBulkPut -benchtime 1x -count 3 ./cmd/groupctl/
func BenchmarkImportVsBulkPut(b *testing.B) {
	items := make([]any, bigN)
	for i := range items {
		typ := "easydb"
		if i%10 == 0 {
			typ = "custom-dept"
		}
		items[i] = map[string]any{"_basetype": "group", "group": map[string]any{
			"reference": fmt.Sprintf("ldap:g%05d", i), "name": fmt.Sprintf("group-%05d", i), "type": typ,
			"displayname": map[string]string{"en-US": fmt.Sprintf("Group %d", i), "de-DE": fmt.Sprintf("Gruppe %d", i)},
			"comment":     fmt.Sprintf("comment, %d", i)}}
	}
	body, err := json.Marshal(items)
	if err != nil {
		b.Fatal(err)
	}
	file := writeFile(b, "groups.csv", groupsCSV(bigN))
	var putTotal, importTotal, serialTotal time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s1 := startServer(b)
		c1 := loggedIn(b, s1)
		cl, err := (&app{env: &env{getenv: func(k string) string { return c1.env[k] }}, ctx: context.Background()}).client()
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		out, err := cl.CreateGroups(context.Background(), body)
		putTotal += time.Since(start)
		if err != nil || len(out) != bigN {
			b.Fatalf("PUT: %v (%d groups)", err, len(out))
		}

		s2 := startServer(b)
		c2 := loggedIn(b, s2)
		c2.http = nil // no contract check: measure groupctl alone
		start = time.Now()
		c2.must("import", file, "--no-progress")
		importTotal += time.Since(start)

		s3 := startServer(b)
		c3 := loggedIn(b, s3)
		c3.http = nil
		start = time.Now()
		c3.must("import", file, "--no-progress", "--parallel", "1")
		serialTotal += time.Since(start)
		b.StartTimer()
	}
	putRate := float64(bigN*b.N) / putTotal.Seconds()
	importRate := float64(bigN*b.N) / importTotal.Seconds()
	b.ReportMetric(putRate, "put-items/s")
	b.ReportMetric(importRate, "import-items/s")
	b.ReportMetric(importRate/putRate, "ratio")
	serialRate := float64(bigN*b.N) / serialTotal.Seconds()
	b.ReportMetric(serialRate, "import-p1-items/s")
	b.ReportMetric(serialRate/putRate, "ratio-p1")
}
