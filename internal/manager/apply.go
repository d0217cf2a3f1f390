package manager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// Applier carries out a plan against a cloud.
type Applier struct {
	Client *Client
	Fetch  *Fetcher
	Log    *slog.Logger
	// Methods are the import methods the cloud offers (GET /v2/info/import).
	Methods []string
	Import  ImportSettings
}

// ImportSettings are the knobs of getting data into a cloud.
type ImportSettings struct {
	// Prefetch is never (web-download only), on-stuck (fetch here when
	// web-download fails) or always (never web-download).
	Prefetch string
	// StuckRetry is how many more web-download attempts follow a failed one.
	StuckRetry int
	// FetchRetries is how many more attempts follow a failed streamed
	// transfer (upload or stage).
	FetchRetries int
	// Timeout is the budget of one image, all attempts together.
	Timeout time.Duration
	// StuckAfter is how long an image may stay queued after an import
	// was accepted before the import counts as failed.
	StuckAfter time.Duration
	// Poll is the first interval between status polls; it grows to 5 s.
	Poll time.Duration
}

// Result is what became of one action.
type Result struct {
	Action  Action `json:"action"`
	Outcome string `json:"outcome"` // done, failed, skipped
	ImageID string `json:"image_id,omitempty"`
	// Method is how an import got its data: web-download, glance-direct
	// or upload.
	Method  string  `json:"method,omitempty"`
	Error   string  `json:"error,omitempty"`
	Seconds float64 `json:"seconds"`
}

// Summary counts what a run did.
type Summary struct {
	Created     int `json:"created"`
	Updated     int `json:"updated"`
	Renamed     int `json:"renamed"`
	Hidden      int `json:"hidden"`
	Deactivated int `json:"deactivated"`
	Reactivated int `json:"reactivated"`
	Deleted     int `json:"deleted"`
	Failed      int `json:"failed"`
	Skipped     int `json:"skipped"`
}

// Apply runs the plan's actions in order. An import that fails skips the
// actions that need it; any failure skips the cleanup actions, as in the
// OSISM tool, since a failed image would make its predecessors look
// outdated.
func (ap *Applier) Apply(ctx context.Context, p Plan) []Result {
	refs := map[string]string{}
	failedRefs := map[string]bool{}
	failures := 0
	results := make([]Result, 0, len(p.Actions))
	for _, a := range p.Actions {
		r := Result{Action: a, ImageID: a.ImageID}
		switch {
		case ctx.Err() != nil:
			r.Outcome, r.Error = "skipped", "interrupted"
		case a.Cleanup && failures > 0:
			r.Outcome, r.Error = "skipped", "cleanup skipped because of earlier failures"
		case a.After != "" && failedRefs[a.After],
			a.Ref != "" && a.Kind != KindImport && a.Kind != KindReplace && failedRefs[a.Ref]:
			r.Outcome, r.Error = "skipped", "its import failed"
		default:
			start := time.Now()
			if a.Ref != "" && a.Kind != KindImport && a.Kind != KindReplace {
				r.ImageID = refs[a.Ref]
			}
			id, method, err := ap.run(ctx, a, r.ImageID)
			r.Seconds = time.Since(start).Seconds()
			if id != "" {
				r.ImageID = id
			}
			r.Method = method
			if err != nil {
				r.Outcome, r.Error = "failed", err.Error()
				failures++
				if a.Kind == KindImport || a.Kind == KindReplace {
					failedRefs[a.Ref] = true
				}
				ap.Log.Error("failed", "action", a.Kind, "image", a.Image, "error", err)
			} else {
				r.Outcome = "done"
				if a.Kind == KindImport || a.Kind == KindReplace {
					refs[a.Ref] = id
				}
			}
		}
		if r.Outcome == "skipped" {
			ap.Log.Warn("skipped", "action", a.Kind, "image", a.Image, "reason", r.Error)
		}
		results = append(results, r)
	}
	return results
}

// run carries out one action on image id.
func (ap *Applier) run(ctx context.Context, a Action, id string) (newID, method string, err error) {
	log := ap.Log.With("image", a.Image)
	switch a.Kind {
	case KindImport, KindReplace:
		if a.Kind == KindReplace {
			log.Info("deleting leftover of an unfinished import", "id", a.ImageID)
			if err := ap.Client.Delete(ctx, a.ImageID); err != nil {
				return "", "", fmt.Errorf("deleting leftover %s: %w", a.ImageID, err)
			}
		}
		return ap.importImage(ctx, a.Import)
	case KindUpdate:
		log.Info("updating", "id", id, "changes", describeChanges(a.Update))
		return "", "", ap.update(ctx, id, a.Update)
	case KindRename:
		log.Info("renaming", "id", id, "to", a.NewName)
		return "", "", ap.Client.Patch(ctx, id, []patchOp{{Op: "replace", Path: "/name", Value: a.NewName}})
	case KindVisibility, KindHide:
		log.Info("setting visibility", "id", id, "visibility", a.Visibility)
		return "", "", ap.Client.Patch(ctx, id, []patchOp{{Op: "replace", Path: "/visibility", Value: a.Visibility}})
	case KindDeactivate, KindReactivate:
		log.Info(strings.TrimSuffix(string(a.Kind), "e")+"ing", "id", id) // deactivating, reactivating
		return "", "", ap.Client.Action(ctx, id, string(a.Kind))
	case KindDelete:
		log.Info("deleting", "id", id)
		return "", "", ap.Client.Delete(ctx, id)
	}
	return "", "", fmt.Errorf("unknown action %q", a.Kind)
}

// update applies fields and properties in one patch, then the tags.
func (ap *Applier) update(ctx context.Context, id string, u *Update) error {
	if err := ap.Client.Patch(ctx, id, updateOps(u)); err != nil {
		return err
	}
	for _, t := range u.AddTags {
		if err := ap.Client.Tag(ctx, id, t, false); err != nil {
			return fmt.Errorf("adding tag %s: %w", t, err)
		}
	}
	for _, t := range u.RemoveTags {
		if err := ap.Client.Tag(ctx, id, t, true); err != nil {
			return fmt.Errorf("removing tag %s: %w", t, err)
		}
	}
	return nil
}

// cleanupContext is for deleting what a failed attempt left: it must run
// even when the attempt failed because its deadline passed.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
}

// discard deletes an image a failed attempt made.
func (ap *Applier) discard(ctx context.Context, id, why string) {
	if id == "" {
		return
	}
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	if err := ap.Client.Delete(cctx, id); err != nil {
		ap.Log.Error("could not delete the image of a failed import", "id", id, "error", err)
		return
	}
	ap.Log.Info("deleted the image of a failed import", "id", id, "reason", why)
}

func (ap *Applier) offers(method string) bool { return slices.Contains(ap.Methods, method) }

// Tally counts results.
func Tally(results []Result) Summary {
	var s Summary
	updated := map[string]bool{}
	for _, r := range results {
		switch r.Outcome {
		case "failed":
			s.Failed++
			continue
		case "skipped":
			s.Skipped++
			continue
		}
		switch r.Action.Kind {
		case KindImport, KindReplace:
			s.Created++
		case KindUpdate, KindVisibility:
			if r.Action.ImageID != "" && !updated[r.Action.ImageID] {
				updated[r.Action.ImageID] = true
				s.Updated++
			}
		case KindRename:
			s.Renamed++
		case KindHide:
			s.Hidden++
		case KindDeactivate:
			s.Deactivated++
		case KindReactivate:
			s.Reactivated++
		case KindDelete:
			s.Deleted++
		}
	}
	return s
}

var errStuck = errors.New("the import did not start")
