package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"relpack/pkg/config"
	"relpack/pkg/merge"
)

func newMergeCmd() *cobra.Command {
	var (
		cfgPath, out            string
		signFlag, clean, asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "merge DIR... --out DIR [--sign [-c packaging.yaml]]",
		Short: "Join partial releases (build --only) into one release",
		Long: `merge joins the partial releases that relpack build --only wrote (one CI
job per arch, say) into one release in --out: every artifact, one
manifest.json and one SHA256SUMS, byte-identical to what a single relpack
build of the same inputs writes. With --sign, SHA256SUMS.asc and KEY.asc
are made here, once, with the signing key of -c's configuration; the
packages were signed where they were built (build --only --sign).

merge refuses partials of different versions or configurations, an
artifact in two partials, an artifact missing from its folder or not the
file its manifest records, a planned artifact no partial holds, and a full
(non-partial) release; --out is then left as it was.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, dirs []string) error {
			if out == "" {
				return &exitError{code: 2, msg: "--out DIR is empty: name the folder the merged release goes to"}
			}
			var cfg *config.Config
			if signFlag {
				var err error
				if cfg, err = config.Load(cfgPath); err != nil {
					return &exitError{code: 2, msg: err.Error()}
				}
			}
			ctx, stop := interruptible(cmd.ErrOrStderr())
			defer stop()
			m, err := merge.Run(merge.Options{Dirs: dirs, OutDir: out, Sign: signFlag, Config: cfg, Clean: clean, Warn: cmd.ErrOrStderr(), Context: ctx})
			if err != nil {
				return &exitError{code: signals(cmd.ErrOrStderr()).Code(err, 1), msg: err.Error()}
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(m)
			}
			fmt.Fprintf(w, "%s %s: %d artifacts from %s merged into %s\n", m.Product, m.Version, len(m.Artifacts), strings.Join(dirs, ", "), out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "the release folder to write (created when missing)")
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "packaging.yaml", "the release configuration naming the signing key (read with --sign only)")
	cmd.Flags().BoolVar(&signFlag, "sign", false, "sign SHA256SUMS (SHA256SUMS.asc, KEY.asc) with the configuration's signing key; the partials must be signed by it")
	cmd.Flags().BoolVar(&clean, "clean", false, "replace an earlier release in --out")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the merged manifest as JSON")
	cmd.MarkFlagRequired("out")
	return cmd
}
