package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// table writes rows of named columns in the chosen output: aligned columns for a person,
// one JSON object a line, or CSV with a header. The column names are the JSON field names,
// stable across versions.
type table struct {
	format string
	cols   []string
	keys   [][]byte // the columns as JSON keys with their colon, made once for every row
	tw     *tabwriter.Writer
	cw     *csv.Writer
	w      io.Writer
	line   []byte // the JSON line being written, kept for the next row
}

// oneLine keeps a value on its line and in its column of the text output.
var oneLine = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ")

// table starts a table of cols on stdout.
func (a *app) table(cols ...string) *table {
	t := &table{format: a.output, cols: cols, w: a.out}
	switch a.output {
	case "json":
		for _, c := range cols {
			k, _ := json.Marshal(c)
			t.keys = append(t.keys, append(k, ':'))
		}
	case "csv":
		t.cw = csv.NewWriter(a.out)
		_ = t.cw.Write(cols)
	case "text":
		t.tw = tabwriter.NewWriter(a.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(t.tw, strings.ToUpper(strings.Join(cols, "\t")))
	}
	return t
}

// row writes one row, a value per column: strings, numbers, booleans, or nil for none.
func (t *table) row(vals ...any) error {
	if len(vals) != len(t.cols) {
		panic(fmt.Sprintf("table: %d values for %d columns", len(vals), len(t.cols)))
	}
	switch t.format {
	case "json":
		t.line = append(t.line[:0], '{')
		for i, k := range t.keys {
			if i > 0 {
				t.line = append(t.line, ',')
			}
			v, err := json.Marshal(vals[i])
			if err != nil {
				return err
			}
			t.line = append(append(t.line, k...), v...)
		}
		t.line = append(t.line, '}', '\n')
		_, err := t.w.Write(t.line)
		return err
	case "csv":
		rec := make([]string, len(vals))
		for i, v := range vals {
			rec[i] = plain(v)
		}
		return t.cw.Write(rec)
	default:
		rec := make([]string, len(vals))
		for i, v := range vals {
			rec[i] = oneLine.Replace(plain(v))
			if rec[i] == "" {
				rec[i] = "-"
			}
		}
		_, err := fmt.Fprintln(t.tw, strings.Join(rec, "\t"))
		return err
	}
}

// flush ends the table; a table's rows may not all show before it.
func (t *table) flush() error {
	switch {
	case t.cw != nil:
		t.cw.Flush()
		return t.cw.Error()
	case t.tw != nil:
		return t.tw.Flush()
	}
	return nil
}

// plain is a value as text: numbers without exponent or trailing zeros.
func plain(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprint(v)
}
