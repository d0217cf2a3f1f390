package imagecli

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
	"github.com/spf13/cobra"

	"github.com/glint-image/glint/internal/imageclient"
)

// output holds cliff's formatter options for one command: -f, -c and the
// options of the individual formats.
type output struct {
	format     string
	columns    []string
	noIndent   bool
	quote      string
	printEmpty bool
}

var formats = []string{"csv", "json", "table", "value", "yaml"}

// addOutputFlags gives a command cliff's output options.
func addOutputFlags(cmd *cobra.Command, o *output) {
	f := cmd.Flags()
	f.StringVarP(&o.format, "format", "f", "table", "the output format: "+strings.Join(formats, ", "))
	f.StringArrayVarP(&o.columns, "column", "c", nil, "specify the column(s) to include, can be repeated")
	f.BoolVar(&o.noIndent, "noindent", false, "whether to disable indenting the JSON")
	f.StringVar(&o.quote, "quote", "nonnumeric", "when to include quotes in csv: all, minimal, none, nonnumeric")
	f.BoolVar(&o.printEmpty, "print-empty", false, "print an empty table if there is no data to show")
	completeChoices(cmd, "format", formats)
	completeChoices(cmd, "quote", []string{"all", "minimal", "none", "nonnumeric"})
}

// check rejects unknown options before anything is sent to the server.
func (o *output) check() error {
	if !slices.Contains(formats, o.format) {
		return fmt.Errorf("argument -f/--format: invalid choice: %q (choose from %s)", o.format, strings.Join(formats, ", "))
	}
	if !slices.Contains([]string{"all", "minimal", "none", "nonnumeric"}, o.quote) {
		return fmt.Errorf("argument --quote: invalid choice: %q (choose from all, minimal, none, nonnumeric)", o.quote)
	}
	return nil
}

// selectColumns applies -c as cliff does: names compared case-blind with
// spaces as underscores, kept in the command's own order.
func (o *output) selectColumns(names []string) ([]int, error) {
	if len(o.columns) == 0 {
		idx := make([]int, len(names))
		for i := range names {
			idx[i] = i
		}
		return idx, nil
	}
	norm := func(s string) string { return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), " ", "_") }
	want := map[string]bool{}
	for _, c := range o.columns {
		want[norm(c)] = true
	}
	var idx []int
	for i, n := range names {
		if want[norm(n)] {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		quoted := make([]string, len(names))
		for i, n := range names {
			quoted[i] = pyQuote(n)
		}
		return nil, fmt.Errorf("No recognized column names in %s. Recognized columns are (%s).",
			pyRepr(toAny(o.columns)), strings.Join(quoted, ", "))
	}
	return idx, nil
}

// list prints rows, as a cliff Lister does.
func (o *output) list(w io.Writer, names []string, rows [][]any) error {
	idx, err := o.selectColumns(names)
	if err != nil {
		return err
	}
	names = pick(names, idx)
	for i := range rows {
		rows[i] = pick(rows[i], idx)
	}
	switch o.format {
	case "json":
		items := make([]any, len(rows))
		for i, r := range rows {
			items[i] = newObject(names, r)
		}
		return o.writeJSON(w, items)
	case "yaml":
		items := make([]any, len(rows))
		for i, r := range rows {
			items[i] = newObject(names, r)
		}
		return writeYAML(w, items)
	case "value":
		for _, r := range rows {
			cells := make([]string, len(r))
			for i, v := range r {
				cells[i] = imageclient.EscapeText(pyStr(v))
			}
			fmt.Fprintln(w, strings.Join(cells, " "))
		}
		return nil
	case "csv":
		return o.writeCSV(w, names, rows)
	}
	if len(rows) == 0 && !o.printEmpty {
		fmt.Fprintln(w)
		return nil
	}
	var right []bool
	if len(rows) > 0 {
		for _, v := range rows[0] {
			right = append(right, isNumber(v))
		}
	}
	return writeTable(w, names, rows, right)
}

// one prints one record, as a cliff ShowOne does. csv, which cliff lacks
// for single records, prints Field,Value rows.
func (o *output) one(w io.Writer, fields []string, values []any) error {
	idx, err := o.selectColumns(fields)
	if err != nil {
		return err
	}
	fields, values = pick(fields, idx), pick(values, idx)
	switch o.format {
	case "json":
		return o.writeJSON(w, newObject(fields, values))
	case "yaml":
		return writeYAML(w, newObject(fields, values))
	case "value":
		for _, v := range values {
			fmt.Fprintln(w, imageclient.EscapeText(pyStr(v)))
		}
		return nil
	}
	rows := make([][]any, len(fields))
	for i := range fields {
		rows[i] = []any{fields[i], values[i]}
	}
	if o.format == "csv" {
		return o.writeCSV(w, []string{"Field", "Value"}, rows)
	}
	return writeTable(w, []string{"Field", "Value"}, rows, nil)
}

func pick[T any](s []T, idx []int) []T {
	out := make([]T, len(idx))
	for i, j := range idx {
		out[i] = s[j]
	}
	return out
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// writeTable draws prettytable's default box, headers as given.
func writeTable(w io.Writer, names []string, rows [][]any, right []bool) error {
	t := table.NewWriter()
	style := table.StyleDefault
	style.Format.Header = text.FormatDefault
	t.SetStyle(style)
	header := make(table.Row, len(names))
	var configs []table.ColumnConfig
	for i, n := range names {
		header[i] = n
		align := text.AlignLeft
		if i < len(right) && right[i] {
			align = text.AlignRight
		}
		configs = append(configs, table.ColumnConfig{Number: i + 1, Align: align, AlignHeader: align})
	}
	t.AppendHeader(header)
	t.SetColumnConfigs(configs)
	for _, r := range rows {
		row := make(table.Row, len(r))
		for i, v := range r {
			row[i] = imageclient.EscapeText(human(v))
		}
		t.AppendRow(row)
	}
	_, err := fmt.Fprintln(w, t.Render())
	return err
}

// writeCSV is Python's csv.writer with cliff's options: values as str()
// of their machine form, quoted per --quote, backslash as escape.
func (o *output) writeCSV(w io.Writer, names []string, rows [][]any) error {
	var b strings.Builder
	line := func(cells []any) {
		for i, v := range cells {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(o.csvCell(v))
		}
		b.WriteByte('\n')
	}
	line(toAny(names))
	for _, r := range rows {
		line(r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (o *output) csvCell(v any) string {
	s := ""
	if v != nil {
		s = imageclient.EscapeText(pyStr(v))
	}
	numeric := isNumber(v) || v == true || v == false
	special := strings.ContainsAny(s, ",\"\n\r")
	quote := o.quote == "all" || (o.quote == "nonnumeric" && !numeric) || (o.quote == "minimal" && special)
	switch {
	case quote:
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	case special:
		return strings.NewReplacer(`,`, `\,`, `"`, `\"`).Replace(s)
	}
	return s
}
