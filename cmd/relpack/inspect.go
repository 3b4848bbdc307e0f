package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"relpack/pkg/abi"
)

func newInspectCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect FILE...",
		Short: "Print the ABI facts of ELF files",
		Long: `inspect prints, for each ELF file: machine, file type, libc flavour,
interpreter, NEEDED, SONAME, RUNPATH/RPATH, the symbol versions the loader
demands per library, the imported symbols grouped by version, and the highest
version per family. --json prints a JSON array (shape: docs/inspect-json.md).
Names taken from the file that are not printable text are printed quoted,
with Go escapes ("\x1b[2J"). A file that cannot be read is reported on
stderr and the others are still printed; the exit status is then 2.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			all := []*abi.Facts{}
			failed := 0
			out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
			for _, p := range args {
				f, err := abi.Inspect(p)
				if err != nil {
					failed++
					fmt.Fprintln(errOut, "relpack:", err)
					continue
				}
				if !asJSON {
					if len(all) > 0 {
						fmt.Fprintln(out)
					}
					abi.WriteFacts(out, f)
				}
				all = append(all, f)
			}
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(all); err != nil {
					return err
				}
			}
			if failed > 0 {
				return &exitError{code: 2, msg: unreadableSummary(failed, len(args), "printed")}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for machines")
	return cmd
}
