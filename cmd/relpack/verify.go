package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"relpack/pkg/abi"
)

// verifyReport is the --json shape of verify (docs/inspect-json.md).
type verifyReport struct {
	OK      bool          `json:"ok"`
	Policy  abi.Policy    `json:"policy"`
	Results []abi.Verdict `json:"results"`
	// Errors lists the files that could not be read; their verdicts are
	// missing from Results and the exit status is 2.
	Errors []fileError `json:"errors"`
}

// fileError is one file inspect or verify could not read.
type fileError struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

// familyFlags names the flag each family floor comes from, so an error about
// a family's value names the flag the user typed.
var familyFlags = map[string]string{"GLIBCXX": "--glibcxx", "CXXABI": "--cxxabi", "GCC": "--gcc"}

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
GCC 7.0.0). Every file that can be read is checked and reported, even when
another cannot. Exit status: 0 all ok, 1 a floor is broken, 2 a file could
not be read (that wins over 1: the check is incomplete).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			policy, err := abi.PolicyFor(floor, map[string]string{"GLIBCXX": glibcxx, "CXXABI": cxxabi, "GCC": gcc})
			if err != nil {
				flag := "--floor"
				var fe *abi.FloorError
				if errors.As(err, &fe) && familyFlags[fe.Family] != "" {
					flag = familyFlags[fe.Family]
				}
				return &exitError{code: 2, msg: flag + ": " + err.Error()}
			}
			rep := verifyReport{OK: true, Policy: policy, Results: []abi.Verdict{}, Errors: []fileError{}}
			out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
			for _, p := range args {
				f, err := abi.Inspect(p)
				if err != nil {
					// Report it and go on: one unreadable file must not hide
					// the verdicts of the others.
					rep.Errors = append(rep.Errors, fileError{Path: p, Error: err.Error()})
					fmt.Fprintln(errOut, "relpack:", err)
					continue
				}
				v := abi.Verify(f, policy)
				rep.OK = rep.OK && v.OK
				rep.Results = append(rep.Results, v)
				if !asJSON {
					abi.WriteVerdict(out, v, policy)
				}
			}
			if asJSON {
				rep.OK = rep.OK && len(rep.Errors) == 0
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			}
			switch {
			case len(rep.Errors) > 0:
				return &exitError{code: 2, msg: unreadableSummary(len(rep.Errors), len(args), "checked")}
			case !rep.OK:
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

// unreadableSummary is the last line of a run in which some files could
// not be read: how many, and that the others were still done.
func unreadableSummary(failed, total int, done string) string {
	switch {
	case total == 1:
		return "the file could not be read (above)"
	case failed == total:
		return fmt.Sprintf("none of the %d files could be read (above)", total)
	}
	return fmt.Sprintf("%d of %d files could not be read (above); the others are %s", failed, total, done)
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
