package manager

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/glint-image/glint/internal/imagecli"
)

// Command returns `glint manage`, with the OSISM tool's flags. The plan
// and the summary go to stdout; progress, warnings and errors to stderr.
func Command(stdout, stderr io.Writer) *cobra.Command {
	return newCommand(&runner{out: stdout, errw: stderr, getenv: os.Getenv, now: time.Now})
}

// runner is one run of the command.
type runner struct {
	out, errw io.Writer
	getenv    func(string) string
	now       func() time.Time

	images, cloud, region, iface, tag, filter, output string
	dryRun, checkOnly, check, debug                   bool
	latest, force, keep, hide, deactivate, del, yes   bool
	useOSHidden, deprecate, checkAge                  bool
	maxAge                                            int
	share                                             ShareOptions
	prefetch                                          string
	stuckRetry, fetchRetries, importTimeout           int
	stuckAfter                                        time.Duration
}

func newCommand(r *runner) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "manage",
		Short: "Reconcile a directory of image definitions (OSISM openstack-image-manager format) with a cloud",
		Long: `Reads image definitions in the OSISM openstack-image-manager format, checks them
against its schema, plans what the cloud needs to match them, and applies the plan
(or with --dry-run only prints it). Works with any Image API v2 cloud, with the
credentials glint image takes (--cloud / OS_CLOUD and clouds.yaml, or OS_* variables).`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	f := cmd.Flags()
	f.StringVar(&r.images, "images", "etc/images/", "directory of definition files (*.yml, *.yaml), or one file")
	f.StringVar(&r.cloud, "cloud", "", "cloud name in clouds.yaml (Env: OS_CLOUD; default openstack unless OS_AUTH_URL is set)")
	f.StringVar(&r.cloud, "os-cloud", "", "the same as --cloud")
	f.StringVar(&r.region, "os-region-name", "", "region of the image endpoint (Env: OS_REGION_NAME)")
	f.StringVar(&r.iface, "os-interface", "", "endpoint interface: public, internal or admin (Env: OS_INTERFACE)")
	f.StringVar(&r.tag, "tag", "managed_by_osism", "tag that marks managed images")
	f.StringVar(&r.filter, "filter", "", "only process definitions whose name matches this regular expression")
	f.BoolVar(&r.dryRun, "dry-run", false, "print the plan and change nothing")
	f.BoolVar(&r.checkOnly, "check-only", false, "validate the definitions and stop (needs no cloud)")
	f.BoolVar(&r.check, "check", true, "validate the definitions against the schema (--no-check lets unknown meta keys through as properties)")
	f.Bool("no-check", false, "see --check")
	f.BoolVar(&r.debug, "debug", false, "debug logging, and each request and response on stderr, secrets masked")
	f.BoolVar(&r.latest, "latest", false, "import only the newest version of each definition")
	f.BoolVar(&r.force, "force", false, "also process definitions with enable: false")
	f.BoolVar(&r.keep, "keep", false, "cleanup: never touch outdated images of non-multi definitions")
	f.BoolVar(&r.hide, "hide", false, "cleanup: set outdated images to visibility community")
	f.BoolVar(&r.deactivate, "deactivate", false, "cleanup: deactivate images that would be deleted, when deletion is not enabled")
	f.BoolVar(&r.del, "delete", false, "cleanup: delete outdated images (only with --yes-i-really-know-what-i-do)")
	f.BoolVar(&r.yes, "yes-i-really-know-what-i-do", false, "second safety switch for --delete")
	f.BoolVar(&r.useOSHidden, "use-os-hidden", false, "set os_hidden: false on the newest image of each definition, true on older ones")
	f.BoolVar(&r.deprecate, "deprecate", true, "mark replaced images deprecated=true, replacement=<newer image>")
	f.BoolVar(&r.checkAge, "check-age", false, "warn about images older than the newest build_date of their definition by more than --max-age")
	f.IntVar(&r.maxAge, "max-age", 90, "days, for --check-age")
	f.StringVar(&r.share.Image, "share-image", "", "share mode: the image (name or id) to share; nothing is reconciled")
	f.StringVar(&r.share.Action, "share-action", "add", "share mode: add (and accept) or del")
	f.StringVar(&r.share.Domain, "share-domain", "default", "share mode: domain of --share-target when --share-type is project")
	f.StringVar(&r.share.Target, "share-target", "", "share mode: project name, or domain name with --share-type domain")
	f.StringVar(&r.share.Type, "share-type", "project", "share mode: project, or domain for every project of a domain")
	f.StringVar(&r.prefetch, "prefetch", "on-stuck", "fetch images here: never (web-download only), on-stuck (when web-download fails), always")
	f.IntVar(&r.stuckRetry, "stuck-retry", 0, "more web-download attempts after a failed one")
	f.IntVar(&r.fetchRetries, "fetch-retries", 2, "more attempts after a failed transfer from here")
	f.IntVar(&r.importTimeout, "import-timeout", 1800, "seconds one image may take, all attempts together")
	f.DurationVar(&r.stuckAfter, "stuck-after", 30*time.Second, "an accepted import still queued after this long has failed")
	f.StringVar(&r.output, "output", "table", "output format: table or json")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if noCheck, _ := f.GetBool("no-check"); noCheck {
			r.check = false
		}
		parent := cmd.Context()
		if parent == nil {
			parent = context.Background()
		}
		ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
		defer stop()
		return r.run(ctx)
	}
	return cmd
}

// errReported is an error whose details were printed already.
type errReported struct{ msg string }

func (e *errReported) Error() string { return e.msg }

func (r *runner) validateFlags() error {
	switch {
	case !slices.Contains([]string{"table", "json"}, r.output):
		return fmt.Errorf("--output must be table or json, not %q", r.output)
	case !slices.Contains([]string{"never", "on-stuck", "always"}, r.prefetch):
		return fmt.Errorf("--prefetch must be never, on-stuck or always, not %q", r.prefetch)
	case r.importTimeout <= 0 || r.importTimeout > 7*24*3600:
		return fmt.Errorf("--import-timeout must be between 1 and %d seconds", 7*24*3600)
	case r.stuckRetry < 0 || r.stuckRetry > 10, r.fetchRetries < 0 || r.fetchRetries > 10:
		return errors.New("--stuck-retry and --fetch-retries must be between 0 and 10")
	case r.stuckAfter <= 0:
		return errors.New("--stuck-after must be positive")
	}
	return nil
}

func (r *runner) logger() *slog.Logger {
	level := slog.LevelInfo
	if r.debug {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(r.errw, &slog.HandlerOptions{Level: level}))
}

func (r *runner) run(ctx context.Context) error {
	if err := r.validateFlags(); err != nil {
		return err
	}
	var filter *regexp.Regexp
	if r.filter != "" {
		var err error
		if filter, err = regexp.Compile(r.filter); err != nil {
			return fmt.Errorf("--filter: %w", err)
		}
	}
	log := r.logger()
	if r.share.Image != "" {
		return r.runShare(ctx)
	}
	cat, err := Load(r.images, LoadOptions{NoCheck: !r.check})
	var ve *ValidationError
	if errors.As(err, &ve) {
		if r.output == "json" {
			if werr := writeJSON(r.out, Report{Problems: ve.Problems}); werr != nil {
				return werr
			}
		}
		return err
	}
	if err != nil {
		return err
	}
	if r.checkOnly {
		if r.output == "json" {
			return writeJSON(r.out, Report{Problems: []Problem{}})
		}
		fmt.Fprintf(r.out, "%d definition(s) in %d file(s) are valid.\n", len(cat.Definitions), len(cat.Files))
		return nil
	}

	sess, err := r.connect(ctx)
	if err != nil {
		return err
	}
	client := NewClient(sess.Image, sess.ProjectID)
	opts := Options{Tag: r.tag, Filter: filter, Latest: r.latest, Force: r.force, Keep: r.keep, Hide: r.hide,
		Deactivate: r.deactivate, Delete: r.del && r.yes, UseOSHidden: r.useOSHidden, Deprecate: r.deprecate}
	found, err := client.Managed(ctx, r.tag)
	if err != nil {
		return err
	}
	fetch := NewFetcher()
	in := Input{Catalog: cat, Images: found, Options: opts, Now: r.now(), Upstream: r.resolve(ctx, fetch, cat, opts)}
	plan := Compute(in)
	if r.checkAge {
		plan.Notes = append(plan.Notes, AgeWarnings(in, r.maxAge)...)
	}
	if r.del && !r.yes {
		plan.Notes = append(plan.Notes, Note{Message: "--delete does nothing without --yes-i-really-know-what-i-do"})
	}
	failing := 0
	if r.dryRun {
		failing = fetch.DryRunCheck(ctx, &plan)
	}
	report := Report{DryRun: r.dryRun, Plan: &plan}
	if r.output == "table" {
		writePlan(r.out, plan)
	}
	if r.dryRun {
		if r.output == "json" {
			if err := writeJSON(r.out, report); err != nil {
				return err
			}
		}
		switch {
		case len(plan.Errors) > 0:
			return &errReported{msg: fmt.Sprintf("%d definition(s) cannot be planned", len(plan.Errors))}
		case failing > 0:
			return &errReported{msg: fmt.Sprintf("%d import(s) would fail: their data cannot be fetched or does not match its checksum", failing)}
		}
		return nil
	}
	methods, err := client.ImportMethods(ctx)
	if err != nil {
		return fmt.Errorf("reading the import methods: %w", err)
	}
	log.Debug("import methods", "offered", methods)
	ap := &Applier{Client: client, Fetch: fetch, Log: log, Methods: methods, Import: ImportSettings{
		Prefetch: r.prefetch, StuckRetry: r.stuckRetry, FetchRetries: r.fetchRetries,
		Timeout: time.Duration(r.importTimeout) * time.Second, StuckAfter: r.stuckAfter}}
	report.Results = ap.Apply(ctx, plan)
	sum := Tally(report.Results)
	report.Summary = &sum
	if r.output == "json" {
		if err := writeJSON(r.out, report); err != nil {
			return err
		}
	} else if len(plan.Actions) > 0 {
		writeResults(r.out, report.Results, sum)
	}
	switch {
	case sum.Failed > 0:
		return &errReported{msg: fmt.Sprintf("%d action(s) failed", sum.Failed)}
	case len(plan.Errors) > 0:
		return &errReported{msg: fmt.Sprintf("%d definition(s) cannot be planned", len(plan.Errors))}
	case ctx.Err() != nil:
		return fmt.Errorf("interrupted: %w", ctx.Err())
	}
	return nil
}

// connect authenticates as glint image does. Like the tool, it uses the
// cloud "openstack" when nothing else names credentials.
func (r *runner) connect(ctx context.Context) (*imagecli.Session, error) {
	cloud := r.cloud
	if cloud == "" && r.getenv("OS_CLOUD") == "" && r.getenv("OS_AUTH_URL") == "" && r.getenv("OS_TOKEN") == "" {
		cloud = "openstack"
	}
	var debug io.Writer
	if r.debug {
		debug = r.errw
	}
	return imagecli.Connect(ctx, imagecli.ConnectOptions{Cloud: cloud, Region: r.region, Interface: r.iface,
		Getenv: r.getenv, Debug: debug, UserAgent: "glint-manage"})
}

// resolve looks up the upstream digest of every processed definition's
// version latest: the plan needs it to know whether there is news.
func (r *runner) resolve(ctx context.Context, fetch *Fetcher, cat *Catalog, o Options) map[string]Upstream {
	out := map[string]Upstream{}
	p := &planner{in: Input{Options: o}}
	for _, d := range cat.Definitions {
		if !p.selected(&d) {
			continue
		}
		for _, v := range d.Versions {
			if v.Version == Latest {
				out[d.Name] = fetch.ResolveLatest(ctx, &v)
			}
		}
	}
	return out
}

func (r *runner) runShare(ctx context.Context) error {
	sess, err := r.connect(ctx)
	if err != nil {
		return err
	}
	o := r.share
	o.DryRun = r.dryRun
	results, err := Share(ctx, NewClient(sess.Image, sess.ProjectID), sess.Identity, o)
	if err != nil {
		return err
	}
	failed := 0
	for _, s := range results {
		if s.Outcome == "failed" {
			failed++
		}
	}
	if r.output == "json" {
		if err := writeJSON(r.out, Report{DryRun: r.dryRun, Shares: results}); err != nil {
			return err
		}
	} else {
		for _, s := range results {
			line := fmt.Sprintf("%s %s (%s) for project %s (%s): %s", s.Action, clean(s.Image), s.ImageID,
				clean(s.Project), s.ProjectID, s.Outcome)
			if s.Error != "" {
				line += ": " + clean(s.Error)
			}
			fmt.Fprintln(r.out, line)
		}
	}
	if failed > 0 {
		return &errReported{msg: fmt.Sprintf("%d membership change(s) failed", failed)}
	}
	return nil
}
