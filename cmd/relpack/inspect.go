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
version per family. --json prints a JSON array (shape: docs/inspect-json.md).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var all []*abi.Facts
			for _, p := range args {
				f, err := abi.Inspect(p)
				if err != nil {
					return &exitError{code: 2, msg: err.Error()}
				}
				all = append(all, f)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(all)
			}
			for i, f := range all {
				if i > 0 {
					fmt.Fprintln(out)
				}
				abi.WriteFacts(out, f)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for machines")
	return cmd
}
