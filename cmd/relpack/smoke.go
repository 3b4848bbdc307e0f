package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"relpack/pkg/smoke"
)

func newSmokeCmd() *cobra.Command {
	var (
		root, mode, bin string
		asJSON          bool
		timeout         time.Duration
	)
	cmd := &cobra.Command{
		Use:   "smoke --root DIR FILE|ARTIFACT [-- ARGS...]",
		Short: "Start a binary against an older glibc root with LD_BIND_NOW=1",
		Long: `smoke starts an ELF executable, or the program inside a relpack .tar.gz
artifact (its layout kept, so RUNPATH $ORIGIN/../lib finds lib/), against the
root file system DIR (a debootstrap tree, an exported container image, or a
folder of libc files) with LD_BIND_NOW=1, and reports whether it came up.
The program gets ARGS (default: --version).

Modes: loader runs DIR's own dynamic loader on the binary (no privileges);
chroot copies it into DIR/tmp and starts it in a chroot with /proc mounted in a
private mount namespace (root only); auto (default) picks chroot when running
as root and DIR has bin/sh, else loader. aarch64 binaries on an x86_64 host run
under qemu-aarch64-static.

Exit status: 0 the program started and exited 0; 1 it did not (the loader's
error line is reported); 2 the test could not be run (bad root, not an ELF
file, missing tool or privilege). See docs/smoke.md.`,
		Args: func(cmd *cobra.Command, args []string) error {
			n := len(args)
			if d := cmd.ArgsLenAtDash(); d >= 0 {
				n = d
			}
			if n != 1 {
				return &exitError{code: 2, msg: "smoke takes one FILE or ARTIFACT (program arguments go after --)"}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o := smoke.Options{Root: root, File: args[0], Binary: bin, Mode: smoke.Mode(mode), Timeout: timeout}
			if d := cmd.ArgsLenAtDash(); d >= 0 {
				o.Args = append([]string{}, args[d:]...)
			}
			// The run has a scratch folder (and in chroot mode a copy in
			// the root's tmp/) to remove: a signal cancels it, the
			// program's process group is killed, and the clean-up runs.
			in := signals(cmd.ErrOrStderr())
			in.Writing("the smoke test's scratch folder")
			o.Context = in.Context()
			res, err := smoke.Run(o)
			in.Reading()
			if err != nil {
				// *smoke.Error (bad input) or a tool that could not start:
				// either way the test could not be run.
				return &exitError{code: in.Code(err, 2), msg: err.Error()}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(res); err != nil {
					return err
				}
				if !res.OK {
					return &exitError{code: 1}
				}
				return nil
			}
			writeSmoke(out, res)
			if !res.OK {
				return &exitError{code: 1, msg: "smoke test failed: " + subject(res) + " does not start on " + res.Root}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&root, "root", "", "extracted root file system or folder of libc files (required)")
	cmd.Flags().StringVar(&mode, "mode", string(smoke.ModeAuto), "loader, chroot or auto")
	cmd.Flags().StringVar(&bin, "bin", "", "the program's path inside an artifact (default: from the artifact's name)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON for machines")
	cmd.Flags().DurationVar(&timeout, "timeout", smoke.DefaultTimeout, "kill the program after this long")
	return cmd
}

func subject(r smoke.Result) string {
	if r.Binary != "" {
		return r.File + " (" + r.Binary + ")"
	}
	return r.File
}

func writeSmoke(w io.Writer, r smoke.Result) {
	verdict := "PASS"
	if !r.OK {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "%s: %s on %s (%s mode, %s", verdict, subject(r), r.Root, r.Mode, r.Machine)
	if r.Loader != "" {
		fmt.Fprintf(w, ", loader %s", r.Loader)
	}
	fmt.Fprintln(w, ", LD_BIND_NOW=1)")
	fmt.Fprintf(w, "  command:   %s\n", strings.Join(r.Command, " "))
	fmt.Fprintf(w, "  exit code: %d\n", r.ExitCode)
	if r.LoaderError != "" {
		fmt.Fprintf(w, "  loader:    %s\n", r.LoaderError)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note:      %s\n", n)
	}
	block(w, "stdout", r.Stdout)
	block(w, "stderr", r.Stderr)
}

func block(w io.Writer, name, s string) {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return
	}
	fmt.Fprintf(w, "  %s:\n", name)
	for _, line := range strings.Split(s, "\n") {
		fmt.Fprintf(w, "    %s\n", line)
	}
}
