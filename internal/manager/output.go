package manager

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/jedib0t/go-pretty/v6/table"

	"github.com/glint-image/glint/internal/imageclient"
)

// Report is everything a run prints with --output json.
type Report struct {
	DryRun   bool          `json:"dry_run"`
	Problems []Problem     `json:"problems,omitempty"`
	Plan     *Plan         `json:"plan,omitempty"`
	Results  []Result      `json:"results,omitempty"`
	Shares   []ShareResult `json:"shares,omitempty"`
	Summary  *Summary      `json:"summary,omitempty"`
}

func writeJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// clean makes text from a cloud or a file safe to print on a terminal.
func clean(s string) string { return imageclient.EscapeText(s) }

// writePlan prints the plan as a table, then its notes and errors.
func writePlan(w io.Writer, p Plan) {
	if len(p.Actions) == 0 {
		fmt.Fprintln(w, "Nothing to do: the cloud matches the definitions.")
	} else {
		t := table.NewWriter()
		t.SetOutputMirror(w)
		t.AppendHeader(table.Row{"#", "Action", "Image", "Details"})
		for i, a := range p.Actions {
			t.AppendRow(table.Row{i + 1, a.Kind, clean(a.Image), clean(details(a))})
		}
		t.Render()
	}
	if len(p.Notes) > 0 {
		fmt.Fprintln(w, "Left alone:")
		for _, n := range p.Notes {
			who := n.Image
			if who == "" {
				who = n.Definition
			}
			if who == "" {
				fmt.Fprintf(w, "  %s\n", clean(n.Message))
				continue
			}
			fmt.Fprintf(w, "  %s: %s\n", clean(who), clean(n.Message))
		}
	}
	for _, e := range p.Errors {
		fmt.Fprintf(w, "Error: %s: %s\n", clean(e.Definition), clean(e.Message))
	}
}

// details is the last column of the plan table.
func details(a Action) string {
	var s string
	switch a.Kind {
	case KindImport, KindReplace:
		s = fmt.Sprintf("version %s from %s", a.Version, a.Import.URL)
		if a.Import.Checksum != "" {
			algo, _, _ := strings.Cut(a.Import.Checksum, ":")
			s += ", " + algo + " verified on import"
		}
		s += ", then " + a.Import.Visibility
		if a.Import.Status == "deactivated" {
			s += ", deactivated"
		}
		if a.Kind == KindReplace {
			s += "; deletes " + a.ImageID + " first"
		}
		if a.Check != "" {
			s += "; " + a.Check
		}
	case KindUpdate:
		s = describeChanges(a.Update)
	case KindRename:
		s = "to " + a.NewName
	case KindVisibility, KindHide:
		s = "visibility " + a.Visibility
	}
	if a.Reason != "" {
		if s != "" {
			s += "; "
		}
		s += a.Reason
	}
	if a.ImageID != "" && a.Kind != KindReplace {
		s += " [" + a.ImageID + "]"
	}
	return strings.TrimSpace(s)
}

// describeChanges says what an update changes, briefly.
func describeChanges(u *Update) string {
	if u == nil {
		return ""
	}
	var parts []string
	keys := sortedKeys(u.Set)
	if len(keys) > 4 {
		parts = append(parts, fmt.Sprintf("set %d properties (%s)", len(keys), strings.Join(keys, ", ")))
	} else {
		for _, k := range keys {
			parts = append(parts, k+"="+u.Set[k])
		}
	}
	for _, k := range u.Remove {
		parts = append(parts, "remove "+k)
	}
	for _, t := range u.AddTags {
		parts = append(parts, "add tag "+t)
	}
	for _, t := range u.RemoveTags {
		parts = append(parts, "remove tag "+t)
	}
	if u.MinDisk != nil {
		parts = append(parts, fmt.Sprintf("min_disk=%d", *u.MinDisk))
	}
	if u.MinRAM != nil {
		parts = append(parts, fmt.Sprintf("min_ram=%d", *u.MinRAM))
	}
	if u.OSHidden != nil {
		parts = append(parts, fmt.Sprintf("os_hidden=%v", *u.OSHidden))
	}
	return strings.Join(parts, ", ")
}

// writeResults prints what failed or was skipped, then the summary.
func writeResults(w io.Writer, results []Result, s Summary) {
	for _, r := range results {
		if r.Outcome == "done" {
			continue
		}
		fmt.Fprintf(w, "%s: %s %s: %s\n", r.Outcome, r.Action.Kind, clean(r.Action.Image), clean(r.Error))
	}
	fmt.Fprintln(w, summaryLine(s))
}

func summaryLine(s Summary) string {
	return fmt.Sprintf("Summary: %d created, %d updated, %d renamed, %d hidden, %d deactivated, %d reactivated, "+
		"%d deleted, %d failed, %d skipped", s.Created, s.Updated, s.Renamed, s.Hidden, s.Deactivated, s.Reactivated,
		s.Deleted, s.Failed, s.Skipped)
}
