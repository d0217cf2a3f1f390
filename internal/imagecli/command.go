// Package imagecli is `glint image`: openstackclient's image verbs, flags
// and output over gophercloud, for glint or any Image API v2 cloud.
//
// Each verb group has its own file; output.go and values.go print like
// cliff; auth.go turns clouds.yaml and OS_* variables into one session.
package imagecli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/glint-image/glint/internal/imageclient"
)

// Command returns `glint image`. Results go to stdout; errors, --debug
// lines and progress bars to stderr. Credentials come from the process
// environment and clouds.yaml.
func Command(stdout, stderr io.Writer) *cobra.Command {
	return newCommand(&app{out: stdout, errw: stderr, getenv: os.Getenv, terminal: isTerminal})
}

// app is one run of a command: its streams, its environment, the global
// flags and, once connected, its session.
type app struct {
	out, errw io.Writer
	getenv    func(string) string
	terminal  func(io.Writer) bool

	cloud, region, iface string
	debug                bool
	userAgent            string // "" means glint-image

	sess *session
	// retryPause is the first pause before resuming an interrupted
	// upload (0: imageclient's default); tests shorten it.
	retryPause time.Duration
}

func newCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:           "image",
		Short:         "Manage images of an Image API v2 cloud, as `openstack image` does",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&a.cloud, "os-cloud", "", "cloud name in clouds.yaml (Env: OS_CLOUD)")
	pf.StringVar(&a.region, "os-region-name", "", "region of the image endpoint (Env: OS_REGION_NAME)")
	pf.StringVar(&a.iface, "os-interface", "", "endpoint interface: public, internal or admin (Env: OS_INTERFACE)")
	pf.BoolVar(&a.debug, "debug", false, "show each request and response on stderr, secrets masked")
	cmd.AddCommand(a.listCommand(), a.showCommand(), a.createCommand(), a.setCommand(), a.unsetCommand(),
		a.deleteCommand(), a.saveCommand(), a.stageCommand(), a.addCommand(), a.removeCommand(), a.memberCommand(),
		a.storesCommand(), a.activationCommand("deactivate"), a.activationCommand("reactivate"))
	return cmd
}

// action adapts a verb to cobra: Ctrl-C or SIGTERM cancels what is in
// flight, and server errors become one line quoting the server.
func (a *app) action(fn func(ctx context.Context, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		parent := cmd.Context()
		if parent == nil {
			parent = context.Background()
		}
		ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
		defer stop()
		err := fn(ctx, args)
		if err != nil && ctx.Err() != nil && parent.Err() == nil {
			return fmt.Errorf("interrupted: %w", imageclient.Describe(err))
		}
		return imageclient.Describe(err)
	}
}

// imageAction is action for a verb on the image its first argument names:
// check (of the flags; nil for none) runs before anything is asked of the
// cloud, then the session opens and the image is found for fn.
func (a *app) imageAction(check func() error, fn func(ctx context.Context, s *session, rec record) error) func(*cobra.Command, []string) error {
	return a.action(func(ctx context.Context, args []string) error {
		if check != nil {
			if err := check(); err != nil {
				return err
			}
		}
		s, err := a.connect(ctx)
		if err != nil {
			return err
		}
		rec, err := findImage(ctx, s.image, args[0])
		if err != nil {
			return err
		}
		return fn(ctx, s, rec)
	})
}

func (a *app) debugWriter() io.Writer {
	if a.debug {
		return a.errw
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
