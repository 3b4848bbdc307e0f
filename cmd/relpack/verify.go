package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"relpack/pkg/abi"
	"relpack/pkg/config"
	"relpack/pkg/distro"
)

// verifyReport is the --json shape of verify (docs/inspect-json.md).
type verifyReport struct {
	OK bool `json:"ok"`
	// Policy is the policy of the first file checked (x86_64's when none
	// was); Policies holds the policy of each architecture checked.
	Policy   abi.Policy            `json:"policy"`
	Policies map[string]abi.Policy `json:"policies"`
	Results  []abi.Verdict         `json:"results"`
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
libgcc_s that go with it.

Any glibc floor works. The GLIBCXX, CXXABI and GCC (libgcc_s) limits are
derived from relpack's distro catalog (` + "`relpack distro list`" + `), per
architecture (libgcc_s's GCC_ nodes differ between x86_64 and aarch64): of the
catalog targets that ship the floor's glibc or newer, each family's limit is
the lowest version any of them ships, usually the oldest one's (a 2.28 floor:
RHEL 8's GCC 8 runtime, GLIBCXX 3.4.25). A floor above every target's glibc is
refused. A floor below every target's glibc takes manylinux's table for it
(2.17: CentOS 7's GCC 4.8 runtime); other such floors are refused. --glibcxx,
--cxxabi and --gcc replace a derived limit. A failure names each limit and the
target it comes from; --json reports them under policies.ARCH.sources. Files
of another machine are held to the x86_64 limits.

Every file that can be read is checked and reported, even when another
cannot. Exit status: 0 all ok, 1 a floor is broken, 2 a file could not be
read (that wins over 1: the check is incomplete).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			overrides := map[string]string{"GLIBCXX": glibcxx, "CXXABI": cxxabi, "GCC": gcc}
			policies := map[string]abi.Policy{}
			for _, arch := range config.PolicyArches {
				p, err := distro.PolicyFor(floor, arch, overrides)
				if err != nil {
					flag := "--floor"
					var fe *abi.FloorError
					if errors.As(err, &fe) && familyFlags[fe.Family] != "" {
						flag = familyFlags[fe.Family]
					}
					return &exitError{code: 2, msg: flag + ": " + err.Error()}
				}
				policies[arch] = p
			}
			policyOf := func(machine string) abi.Policy {
				if p, ok := policies[machine]; ok {
					return p
				}
				return policies[config.PolicyArches[0]]
			}
			policy := policyOf(config.PolicyArches[0])
			rep := verifyReport{OK: true, Policy: policy, Policies: map[string]abi.Policy{}, Results: []abi.Verdict{}, Errors: []fileError{}}
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
				p := policyOf(f.Machine)
				if len(rep.Results) == 0 {
					rep.Policy = p
				}
				rep.Policies[p.Arch] = p
				v := abi.Verify(f, p)
				rep.OK = rep.OK && v.OK
				rep.Results = append(rep.Results, v)
				if !asJSON {
					abi.WriteVerdict(out, v, p)
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
	cmd.Flags().StringVar(&floor, "floor", "2.28", "glibc floor: any version from 2.17 (manylinux2014) to the newest catalog target's glibc")
	cmd.Flags().StringVar(&glibcxx, "glibcxx", "", "GLIBCXX limit (default: derived from the catalog)")
	cmd.Flags().StringVar(&cxxabi, "cxxabi", "", "CXXABI limit (default: derived from the catalog)")
	cmd.Flags().StringVar(&gcc, "gcc", "", "GCC (libgcc_s) limit (default: derived from the catalog)")
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
