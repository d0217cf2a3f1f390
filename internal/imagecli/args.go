package imagecli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/glint-image/glint/internal/imageclient"
)

// Options shared by several verbs, spelled as openstackclient spells them.

var (
	containerFormats = []string{"ami", "ari", "aki", "bare", "docker", "ova", "ovf"}
	diskFormats      = []string{"ami", "ari", "aki", "vhd", "vmdk", "raw", "qcow2", "vhdx", "vdi", "iso", "ploop"}
	memberStatuses   = []string{"accepted", "pending", "rejected", "all"}
)

// visibilityFlags are --public/--private/--community/--shared (and, for
// list, --all): at most one, stored as the visibility it names.
type visibilityFlags struct {
	set   map[string]*bool
	order []string
}

func addVisibilityFlags(cmd *cobra.Command, withAll bool) *visibilityFlags {
	v := &visibilityFlags{set: map[string]*bool{}, order: []string{"public", "private", "community", "shared"}}
	help := map[string]string{
		"public":    "image is accessible and visible to all users",
		"private":   "image is only accessible by the owner",
		"community": "image is accessible by all users but listed only for its owner and on request",
		"shared":    "image is only accessible by the owner and image members",
		"all":       "list all images",
	}
	if withAll {
		v.order = append(v.order, "all")
		for _, k := range v.order {
			help[k] = "list only " + k + " images"
		}
		help["all"] = "list all images"
	}
	for _, name := range v.order {
		v.set[name] = cmd.Flags().Bool(name, false, help[name])
	}
	cmd.MarkFlagsMutuallyExclusive(v.order...)
	return v
}

// value is the chosen visibility, or "".
func (v *visibilityFlags) value() string {
	for _, name := range v.order {
		if *v.set[name] {
			return name
		}
	}
	return ""
}

// addProtectedFlags adds --protected/--unprotected; the result is nil
// unless one was given.
func addProtectedFlags(cmd *cobra.Command) func() *bool {
	protected := cmd.Flags().Bool("protected", false, "prevent image from being deleted")
	unprotected := cmd.Flags().Bool("unprotected", false, "allow image to be deleted (default)")
	cmd.MarkFlagsMutuallyExclusive("protected", "unprotected")
	return func() *bool {
		switch {
		case *protected:
			return ptr(true)
		case *unprotected:
			return ptr(false)
		}
		return nil
	}
}

func ptr[T any](v T) *T { return &v }

// parseProperties reads repeated --property key=value options, rejecting
// other spellings as openstackclient's KeyValueAction does.
func parseProperties(kvs []string) (map[string]string, []string, error) {
	props := map[string]string{}
	var order []string
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, nil, fmt.Errorf("argument --property: Expected 'key=value' type, but got: %s", imageclient.EscapeText(kv))
		}
		if k == "" {
			return nil, nil, fmt.Errorf("argument --property: Property key must be specified: %s", imageclient.EscapeText(kv))
		}
		if _, seen := props[k]; !seen {
			order = append(order, k)
		}
		props[k] = v
	}
	return props, order, nil
}

// checkChoice rejects a value outside choices, as argparse does.
func checkChoice(flag, value string, choices []string) error {
	if value == "" || slices.Contains(choices, value) {
		return nil
	}
	return fmt.Errorf("argument --%s: invalid choice: '%s' (choose from %s)", flag, imageclient.EscapeText(value), strings.Join(choices, ", "))
}

func completeChoices(cmd *cobra.Command, flag string, choices []string) {
	mustFlag(cmd.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(choices, cobra.ShellCompDirectiveNoFileComp)))
}

// mustFlag stops at a flag set-up that failed: it names a flag the
// command does not define, a mistake in the command's own code.
func mustFlag(err error) {
	if err != nil {
		panic(err)
	}
}
