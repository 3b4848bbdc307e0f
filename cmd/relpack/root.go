package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"relpack/pkg/buildinfo"
	"relpack/pkg/manifest"
)

// version and commit are set at link time:
// -ldflags "-X main.version=v1.2.3 -X main.commit=$(git rev-parse HEAD)".
// Unset, pkg/buildinfo reads what go build recorded (see tool).
var version, commit = "", ""

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "relpack",
		Short: "Release packager for native Linux server binaries",
		Long: `relpack turns built glibc and musl binaries into release artifacts
(tarballs, deb and rpm packages per distro, manifest.json, SHA256SUMS)
after proving from the ELF files themselves which glibc they need.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// Every command answers SIGINT and SIGTERM through one
		// interrupt (signals.go): exit at once while it writes nothing.
		PersistentPreRun: func(cmd *cobra.Command, _ []string) { signals(cmd.ErrOrStderr()) },
	}
	root.AddCommand(newVersionCmd(), newInspectCmd(), newVerifyCmd(), newBuildCmd(), newSmokeCmd(), newDocsCmd(), newDistroCmd(), newMergeCmd(), newRepoCmd(), newVerifyReleaseCmd())
	return root
}

func newVersionCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print relpack's version (--json: with the commit and Go it was built from)",
		Long: `Print relpack's version: "relpack VERSION", one line.

--json prints the record manifest.json's "tool" holds, one JSON object:
{"name": "relpack", "version": ..., "commit": ..., "go": ...}; "commit" is
absent when the build recorded none (docs/inspect-json.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t := tool()
			if !asJSON {
				fmt.Fprintln(cmd.OutOrStdout(), t.Name, t.Version)
				return nil
			}
			b, err := json.Marshal(t)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s\n", b)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the version, commit and Go version as JSON")
	return cmd
}

// tool is the running relpack's identity, as every release records it.
func tool() manifest.Tool { return buildinfo.Read(version, commit) }
