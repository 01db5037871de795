package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"go.yaml.in/yaml/v4"
)

// outputFlags adds -o/--output and --no-headers to a command that prints
// entries.
func (a *app) outputFlags(fs *flag.FlagSet) {
	fs.StringVar(&a.outFormat, "o", "", "output format: table, wide (more columns), json or yaml")
	fs.StringVar(&a.outFormat, "output", "", "the same as -o")
	fs.BoolVar(&a.noHeaders, "no-headers", false, "tables without the header row")
}

// structured reports whether the output is data (--json, -o json|yaml)
// rather than a table.
func (a *app) structured() bool { return a.json || a.outFormat == "json" || a.outFormat == "yaml" }

func (a *app) wide() bool { return a.outFormat == "wide" }

// printData writes v as JSON, or as YAML with -o yaml (the same document:
// YAML is made of the JSON, so keys and values are the API's).
func (a *app) printData(v any) error {
	if a.outFormat != "yaml" || a.json {
		return a.printJSON(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var doc any
	if unmarshalErr := json.Unmarshal(b, &doc); unmarshalErr != nil {
		return unmarshalErr
	}
	y, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	_, err = a.stdout.Write(y)
	return err
}

// newTable is a table on standard output, without its header row with
// --no-headers.
func (a *app) newTable(header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)}
	if !a.noHeaders {
		t.row(header...)
	}
	return t
}

// printJSON writes v as indented JSON to standard output.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table writes aligned columns.
type table struct{ tw *tabwriter.Writer }

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
