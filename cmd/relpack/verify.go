package main

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"relpack/pkg/abi"
)

// verifyReport is the --json shape of verify (docs/inspect-json.md).
type verifyReport struct {
	OK      bool          `json:"ok"`
	Policy  abi.Policy    `json:"policy"`
	Results []abi.Verdict `json:"results"`
}

func newVerifyCmd() *cobra.Command {
	var (
		floor, glibcxx, cxxabi, gcc string
		asJSON                      bool
	)
	cmd := &cobra.Command{
		Use:   "verify --floor 2.28 FILE...",
		Short: "Check ELF files against a glibc floor",
		Long: `verify checks that every file (executables and bundled shared libraries)
starts on any system with at least the given glibc, and the C++ runtime and
libgcc_s that go with it. The GLIBCXX/CXXABI/GCC floors default to the
policy table of the glibc floor (2.28: GLIBCXX 3.4.24, CXXABI 1.3.11,
GCC 7.0.0). Exit status: 0 all ok, 1 a floor is broken, 2 a file could not
be read.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			policy, err := abi.PolicyFor(floor, map[string]string{"GLIBCXX": glibcxx, "CXXABI": cxxabi, "GCC": gcc})
			if err != nil {
				return &exitError{code: 2, msg: "--floor: " + err.Error()}
			}
			rep := verifyReport{OK: true, Policy: policy}
			for _, p := range args {
				f, err := abi.Inspect(p)
				if err != nil {
					return &exitError{code: 2, msg: err.Error()}
				}
				v := abi.Verify(f, policy)
				rep.OK = rep.OK && v.OK
				rep.Results = append(rep.Results, v)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else {
				for _, v := range rep.Results {
					abi.WriteVerdict(out, v, policy)
				}
			}
			if !rep.OK {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&floor, "floor", "2.28", "glibc floor ("+joinFloors()+")")
	cmd.Flags().StringVar(&glibcxx, "glibcxx", "", "GLIBCXX floor (default: the floor's policy)")
	cmd.Flags().StringVar(&cxxabi, "cxxabi", "", "CXXABI floor (default: the floor's policy)")
	cmd.Flags().StringVar(&gcc, "gcc", "", "GCC (libgcc_s) floor (default: the floor's policy)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON verdicts for CI")
	return cmd
}

func joinFloors() string {
	s := ""
	for i, f := range abi.SupportedFloors() {
		if i > 0 {
			s += ", "
		}
		s += f
	}
	return s
}
