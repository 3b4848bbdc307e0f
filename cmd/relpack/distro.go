package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"sort"

	"github.com/spf13/cobra"

	"relpack/pkg/capture"
	"relpack/pkg/distro"
)

// distroIDRE is a distro target id as catalog.yaml spells it; --id names
// the folder pkg/distro/facts/ID, so it holds no path.
var distroIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

func newDistroCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "distro",
		Short: "Work with distro targets (capture library facts from a distro's packages)",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newDistroCaptureCmd())
	return cmd
}

func newDistroCaptureCmd() *cobra.Command {
	var id, outDir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "capture [--id ID] [-o DIR] PKGFILE...",
		Short: "Write a distro's library facts from its real .deb or .rpm files",
		Long: `capture reads a distro's binary packages (.deb: ar, control.tar.*,
data.tar.{gz,xz,zst}; .rpm: header and cpio payload, gzip/xz/zstd/bzip2/lzma)
and, for every ELF shared object with a SONAME in them, writes the facts
relpack checks packages against: soname, architecture, package name and
version, upstream version, the deb's shlibs relation and symbols-file
entries with their minimal versions (what dpkg-shlibdeps derives a deb's
Depends from), the symbol versions the library defines and the dynamic
symbols it exports. One file per package and architecture,
DIR/PACKAGE_ARCH.yaml; list it under the target's facts: in catalog.yaml.

On an rpm distro:   dnf download z3-libs libstdc++ libgcc && relpack distro capture --id el9 *.rpm
On Debian/Ubuntu:   apt-get download libz3-4 libstdc++6 libgcc-s1 && relpack distro capture --id debian12 *.deb

-o defaults to pkg/distro/facts/ID (run from the checkout's root).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
			if id != "" && !distroIDRE.MatchString(id) {
				return &exitError{code: 2, msg: fmt.Sprintf("--id %q is not a distro target id: lower-case letters, digits, '.', '_' or '-', starting with a letter or digit (e.g. debian12, el9)", id)}
			}
			if outDir == "" {
				if id == "" {
					return &exitError{code: 2, msg: "give -o DIR (where the fact files go) or --id ID (for pkg/distro/facts/ID)"}
				}
				outDir = filepath.Join("pkg", "distro", "facts", id)
			}
			pkgs, err := captureFiles(args, errOut)
			if err != nil {
				return err
			}
			// Until here nothing was written: a signal ended relpack at
			// once. The fact files are staged and renamed as one set.
			in := signals(errOut)
			in.Writing(outDir)
			written, err := capture.WriteContext(in.Context(), outDir, pkgs)
			in.Reading()
			if err != nil {
				return &exitError{code: in.Code(err, 2), msg: err.Error()}
			}
			return printCaptured(out, written, id, asJSON)
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "the distro target's id (debian12, el9, ...): names the default output folder")
	cmd.Flags().StringVarP(&outDir, "out", "o", "", "folder for the fact files (default pkg/distro/facts/ID)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print what was written as JSON")
	return cmd
}

// captureFiles reads every package file into its facts, checked in memory;
// each failure is printed, and any failure refuses the whole set.
func captureFiles(args []string, errOut io.Writer) ([]*capture.Package, error) {
	var pkgs []*capture.Package
	failed := 0
	for _, p := range args {
		pkg, err := capture.File(p)
		if err == nil {
			// Made and checked in memory now, so a package whose
			// facts would not load is named by its input path.
			if err = capture.Check(pkg); err != nil {
				err = fmt.Errorf("%s: %w", p, err)
			}
		}
		if err != nil {
			failed++
			fmt.Fprintln(errOut, "relpack:", err)
			continue
		}
		pkgs = append(pkgs, pkg)
	}
	if failed > 0 {
		return nil, &exitError{code: 2, msg: fmt.Sprintf("%d of %d package files could not be captured; nothing was written", failed, len(args))}
	}
	return pkgs, nil
}

// printCaptured reports the fact files written: as JSON, or one line per
// file and library, the C++ runtime per arch, and the catalog.yaml lines.
func printCaptured(out io.Writer, written []capture.Written, id string, asJSON bool) error {
	var all []distro.LibraryFacts
	for _, w := range written {
		all = append(all, w.Libraries...)
	}
	runtimes := map[string]distro.Runtime{}
	var arches []string
	for _, l := range all {
		if _, ok := runtimes[l.Arch]; !ok {
			arches = append(arches, l.Arch)
			runtimes[l.Arch] = capture.RuntimeOf(all, l.Arch)
		}
	}
	sort.Strings(arches)
	if asJSON {
		type file struct {
			Path      string                `json:"path"`
			Libraries []distro.LibraryFacts `json:"libraries"`
		}
		res := struct {
			Files   []file                    `json:"files"`
			Runtime map[string]distro.Runtime `json:"runtime"`
		}{Files: []file{}, Runtime: runtimes}
		for _, w := range written {
			res.Files = append(res.Files, file{Path: w.Path, Libraries: w.Libraries})
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(res)
	}
	for _, w := range written {
		fmt.Fprintf(out, "wrote %s\n", w.Path)
		for _, l := range w.Libraries {
			fmt.Fprintf(out, "  %s (%s): %s %s, %d version nodes, %d exports", l.Soname, l.Arch, l.Package, l.Version, len(l.VersionDefs), len(l.Exports))
			if l.Shlibs != "" {
				fmt.Fprintf(out, ", shlibs %q", l.Shlibs)
			}
			if l.SymbolsSmallest != "" {
				fmt.Fprintf(out, ", %d symbols-file entries from %s", len(l.Symbols), l.SymbolsSmallest)
			}
			fmt.Fprintln(out)
		}
	}
	for _, a := range arches {
		rt := runtimes[a]
		if rt.GLIBCXX == "" && rt.CXXABI == "" && rt.GCC == "" {
			continue
		}
		fmt.Fprintf(out, "runtime %s: glibcxx %q, cxxabi %q, gcc %q\n", a, rt.GLIBCXX, rt.CXXABI, rt.GCC)
	}
	if id != "" {
		fmt.Fprintf(out, "catalog.yaml, target %s, facts:\n", id)
		for _, w := range written {
			fmt.Fprintf(out, "  - facts/%s/%s\n", id, w.Name)
		}
	}
	return nil
}
