package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at link time: -ldflags "-X main.version=v1.2.3".
var version = ""

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
	return &cobra.Command{
		Use:   "version",
		Short: "Print relpack's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), "relpack", buildVersion())
			return nil
		},
	}
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
