package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// printJSON writes v as indented JSON to standard output.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table writes aligned columns.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	t.row(header...)
	return t
}

func (t *table) row(cells ...string) {
	for i, c := range cells {
		cells[i] = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(c)
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// kv writes "key: value" lines, aligned.
type kv struct{ t *table }

func newKV(w io.Writer) *kv { return &kv{&table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}} }

func (k *kv) row(key, value string) { k.t.row(key+":", value) }
func (k *kv) flush() error          { return k.t.flush() }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
