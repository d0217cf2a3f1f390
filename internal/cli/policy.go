package cli

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/glint-image/glint/internal/policy"
)

// policyCommand prints the default policy rules as a policy file, the
// starting point for an operator's overrides (--policy-file / policy.file).
func policyCommand(stdout io.Writer) *cobra.Command {
	p := &cobra.Command{Use: "policy", Short: "Inspect the authorization policy"}
	var newDefaults bool
	defaults := &cobra.Command{
		Use:   "defaults",
		Short: "Print the default rules as a YAML policy file",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := stdout.Write(policy.DefaultsYAML(newDefaults))
			return err
		},
	}
	defaults.Flags().BoolVar(&newDefaults, "new-defaults", false, "the project-scoped reader/member/admin defaults instead of the Zed legacy ones")
	p.AddCommand(defaults)
	return p
}
