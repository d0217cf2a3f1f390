package glancemigrate

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is what one run did (or, with DryRun, would do).
type Report struct {
	GlanceSchema string    `json:"glance_schema"`
	DryRun       bool      `json:"dry_run"`
	Started      time.Time `json:"started"`
	Finished     time.Time `json:"finished"`

	Images     Counts `json:"images"`
	Namespaces Counts `json:"namespaces"`
	// Data: files adopted in place, files copied (and their bytes).
	DataAdopted int   `json:"data_adopted"`
	DataCopied  int   `json:"data_copied"`
	BytesCopied int64 `json:"bytes_copied"`

	// Changes lists each record written over an older copy, with the
	// fields that differed.
	Changes []Item `json:"changes"`
	// Skipped lists what was not migrated and why.
	Skipped []Item `json:"skipped"`
	// Tasks lists Glance tasks still running (reported, never copied).
	Tasks []Item `json:"running_tasks"`
}

// Counts of one kind of record.
type Counts struct {
	Seen      int `json:"seen"`
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Deleted   int `json:"deleted"`
	Skipped   int `json:"skipped"`
	// Ignored: deleted in Glance and never migrated (or already deleted).
	Ignored int `json:"ignored"`
}

// Item is one record in a list of the report.
type Item struct {
	Kind   string   `json:"kind"`
	ID     string   `json:"id"`
	Fields []string `json:"fields,omitempty"`
	Reason string   `json:"reason,omitempty"`
}

func (c *Counts) count(action string) {
	c.Seen++
	switch action {
	case "created":
		c.Created++
	case "updated":
		c.Updated++
	case "unchanged":
		c.Unchanged++
	case "deleted":
		c.Deleted++
	case "skipped":
		c.Skipped++
	case "ignored":
		c.Ignored++
	}
}

func (r *Report) add(o outcome) {
	r.Images.count(o.action)
	r.DataAdopted += o.adopted
	r.DataCopied += o.copied
	r.BytesCopied += o.bytes
	switch o.action {
	case "skipped":
		r.Skipped = append(r.Skipped, Item{Kind: "image", ID: o.id, Reason: o.reason})
	case "updated":
		r.Changes = append(r.Changes, Item{Kind: "image", ID: o.id, Fields: o.changed})
	}
}

func (r *Report) sort() {
	for _, l := range [][]Item{r.Changes, r.Skipped, r.Tasks} {
		sort.Slice(l, func(i, j int) bool {
			if l[i].Kind != l[j].Kind {
				return l[i].Kind < l[j].Kind
			}
			return l[i].ID < l[j].ID
		})
	}
}

// WriteJSON writes the report as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report for a terminal.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	mode := "migrated"
	if r.DryRun {
		mode = "would migrate (dry run)"
	}
	fmt.Fprintf(tw, "Glance schema %s, %s in %s\n\n", r.GlanceSchema, mode, r.Finished.Sub(r.Started).Round(time.Millisecond))
	fmt.Fprintln(tw, "RECORDS\tSEEN\tCREATED\tUPDATED\tUNCHANGED\tDELETED\tSKIPPED\tIGNORED")
	for _, row := range []struct {
		name string
		c    Counts
	}{{"images", r.Images}, {"namespaces", r.Namespaces}} {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", row.name, row.c.Seen, row.c.Created, row.c.Updated,
			row.c.Unchanged, row.c.Deleted, row.c.Skipped, row.c.Ignored)
	}
	fmt.Fprintf(tw, "\ndata: %d adopted in place, %d copied (%d bytes, size, md5 and os_hash_value verified)\n",
		r.DataAdopted, r.DataCopied, r.BytesCopied)
	for _, sec := range []struct {
		title string
		items []Item
	}{{"CHANGED", r.Changes}, {"SKIPPED", r.Skipped}, {"RUNNING TASKS (not copied)", r.Tasks}} {
		if len(sec.items) == 0 {
			continue
		}
		fmt.Fprintf(tw, "\n%s\n", sec.title)
		for _, it := range sec.items {
			detail := it.Reason
			if len(it.Fields) > 0 {
				detail = strings.Join(it.Fields, ", ")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", it.Kind, it.ID, detail)
		}
	}
	return tw.Flush()
}
