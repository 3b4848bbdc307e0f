package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"relpack/pkg/config"
	"relpack/pkg/release"
)

func newBuildCmd() *cobra.Command {
	var (
		cfgPath, ver, out string
		bins, only        []string
		asJSON, quiet     bool
		clean, signFlag   bool
		timings           bool
	)
	cmd := &cobra.Command{
		Use:   "build -c packaging.yaml --version V [--bin TRIPLE=PATH]... [--only SELECTOR]... [--out DIR]",
		Short: "Verify the inputs and write every release artifact",
		Long: `build inspects and verifies every input binary against the floor in
packaging.yaml, derives each package's dependencies per distro target, and
writes the tarballs, deb and rpm packages, manifest.json and SHA256SUMS into
--out. Nothing is written unless every input passes; artifacts appear under
their final names only when all of them are complete.

--only SELECTOR writes a partial release (one CI job per arch, say): only
the selected artifacts, reading only the inputs they are made from, with a
manifest.json marked partial that names every artifact the release plans.
relpack merge joins the partials into the release a full build writes.
Selectors of one category add up (--only x86_64 --only aarch64); different
categories narrow each other (--only x86_64 --only deb).

SOURCE_DATE_EPOCH sets every timestamp (default 1577836800, 2020-01-01), so
the same inputs give the same bytes anywhere.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(cfgPath)
			if err != nil {
				return &exitError{code: 2, msg: err.Error()}
			}
			overrides := map[string]string{}
			for _, b := range bins {
				t, p, ok := strings.Cut(b, "=")
				if !ok || t == "" || p == "" {
					return &exitError{code: 2, msg: fmt.Sprintf("--bin %q: write TRIPLE=PATH, e.g. --bin x86_64-unknown-linux-gnu=target/release/openshell-gateway", b)}
				}
				overrides[t] = p
			}
			epoch, err := release.EpochFromEnv()
			if err != nil {
				return &exitError{code: 2, msg: err.Error()}
			}
			var progress io.Writer
			if !quiet && !asJSON && isTerminal(os.Stderr) && os.Getenv("CI") == "" {
				progress = cmd.ErrOrStderr()
			}
			var stageTimes io.Writer
			if timings {
				stageTimes = cmd.ErrOrStderr()
			}
			ctx, stop := interruptible(cmd.ErrOrStderr())
			defer stop()
			m, err := release.Run(release.Options{Config: cfg, Version: ver, Bins: overrides, OutDir: out, Epoch: epoch, Progress: progress, Context: ctx, Clean: clean, Warn: cmd.ErrOrStderr(), Sign: signFlag, Only: only, Tool: tool(), Timings: stageTimes})
			if err != nil {
				return &exitError{code: signals(cmd.ErrOrStderr()).Code(err, 1), msg: err.Error()}
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(m)
			}
			partial := ""
			if m.Partial {
				partial = fmt.Sprintf(" (partial: --only %s, %d of %d planned; join with relpack merge)", strings.Join(m.Selectors, " --only "), len(m.Artifacts), len(m.Planned))
			}
			fmt.Fprintf(w, "%s %s: %d artifacts in %s (floor glibc %s)%s\n", m.Product, m.Version, len(m.Artifacts), out, m.Floor.Glibc, partial)
			for _, a := range m.Artifacts {
				extra := ""
				if len(a.Relations) > 0 {
					extra = "  needs: " + strings.Join(a.Relations, ", ")
				}
				fmt.Fprintf(w, "  %-66s %9d%s\n", a.File, a.Size, extra)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "packaging.yaml", "the release configuration")
	cmd.Flags().StringVar(&ver, "version", "", "release version, semver (v0.0.63, 0.0.38-dev.108+g152d059, 1.2.0-rc.1)")
	cmd.Flags().StringArrayVar(&bins, "bin", nil, "input binary for a triple, overriding packaging.yaml (TRIPLE=PATH; repeatable)")
	cmd.Flags().StringVarP(&out, "out", "o", "dist", "output directory")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the manifest as JSON")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	cmd.Flags().BoolVar(&signFlag, "sign", false, "sign packages and SHA256SUMS with packaging.yaml's signing key (passphrase from RELPACK_SIGNING_PASSPHRASE)")
	cmd.Flags().StringArrayVar(&only, "only", nil, "build a partial release: only the artifacts of a triple, arch (x86_64, aarch64), distro target id or kind (tarball, deb, rpm); repeatable; join the partials with relpack merge")
	cmd.Flags().BoolVar(&clean, "clean", false, "replace an earlier build's artifacts in --out (removing those not written again)")
	cmd.Flags().BoolVar(&timings, "timings", false, "print each stage's wall time on stderr as it ends (where a build's time goes; bench/build-realistic.sh uses it)")
	cmd.MarkFlagRequired("version")
	return cmd
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
