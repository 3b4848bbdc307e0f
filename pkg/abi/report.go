package abi

import (
	"fmt"
	"io"
	"strings"
)

// WriteFacts prints facts for people: one block per file.
func WriteFacts(w io.Writer, f *Facts) {
	fmt.Fprintf(w, "%s\n", f.Path)
	fmt.Fprintf(w, "  type:        %s, %s %s (%s-endian)\n", f.Type, f.Class, f.Machine, f.Endian)
	fmt.Fprintf(w, "  libc:        %s (%s)\n", f.Libc, f.Linkage)
	if f.Interpreter != "" {
		fmt.Fprintf(w, "  interpreter: %s\n", f.Interpreter)
	}
	if f.Soname != "" {
		fmt.Fprintf(w, "  soname:      %s\n", f.Soname)
	}
	if len(f.Needed) > 0 {
		fmt.Fprintf(w, "  needed:      %s\n", strings.Join(f.Needed, ", "))
	}
	if len(f.Runpath) > 0 {
		fmt.Fprintf(w, "  runpath:     %s\n", strings.Join(f.Runpath, ":"))
	}
	if len(f.Rpath) > 0 {
		fmt.Fprintf(w, "  rpath:       %s\n", strings.Join(f.Rpath, ":"))
	}
	if len(f.Highest) > 0 {
		var parts []string
		for _, h := range f.Highest {
			parts = append(parts, h.Name)
		}
		fmt.Fprintf(w, "  highest:     %s\n", strings.Join(parts, ", "))
	}
	if len(f.Special) > 0 {
		fmt.Fprintf(w, "  special:     %s\n", strings.Join(f.Special, ", "))
	}
	if len(f.VersionNeeds) > 0 {
		fmt.Fprintf(w, "  version needs:\n")
		for _, vn := range f.VersionNeeds {
			var names []string
			for _, v := range vn.Versions {
				n := v.Name
				if v.Weak {
					n += " (weak)"
				}
				names = append(names, n)
			}
			fmt.Fprintf(w, "    %s: %s\n", vn.Library, strings.Join(names, ", "))
		}
	}
	if len(f.Imports) > 0 {
		fmt.Fprintf(w, "  imports by version:\n")
		for _, g := range f.Imports {
			lib, ver := g.Library, g.Version
			if lib == "" {
				lib = "(any)"
			}
			if ver == "" {
				ver = "(unversioned)"
			}
			fmt.Fprintf(w, "    %s %s: %s\n", lib, ver, strings.Join(g.Symbols, ", "))
		}
	}
	if len(f.Defines) > 0 {
		fmt.Fprintf(w, "  defines:     %s\n", strings.Join(f.Defines, ", "))
	}
}

// WriteVerdict prints a verdict for people: "ok" on one line, or the
// highest versions found and every offending symbol grouped by version.
func WriteVerdict(w io.Writer, v Verdict, p Policy) {
	if v.OK {
		msg := fmt.Sprintf("ok: %s meets %s", v.Path, p.Name)
		if v.Note != "" {
			msg += " (" + v.Note + ")"
		} else if len(v.Highest) > 0 {
			var parts []string
			for _, h := range v.Highest {
				parts = append(parts, h.Name)
			}
			msg += " (highest: " + strings.Join(parts, ", ") + ")"
		}
		fmt.Fprintln(w, msg)
		return
	}
	fmt.Fprintf(w, "FAIL: %s does not meet %s\n", v.Path, p.Name)
	if len(v.Highest) > 0 {
		var parts []string
		for _, h := range v.Highest {
			parts = append(parts, h.Name)
		}
		fmt.Fprintf(w, "  highest: %s\n", strings.Join(parts, ", "))
	}
	for _, viol := range v.Violations {
		syms := strings.Join(viol.Symbols, ", ")
		if syms == "" {
			syms = "(no symbol; the file as a whole needs it)"
		}
		line := fmt.Sprintf("  %s: %s", viol.Name, syms)
		if viol.Floor != "" && viol.Version != "" {
			line += fmt.Sprintf("  [floor %s_%s, from %s]", viol.Family, viol.Floor, strings.Join(viol.Libraries, ", "))
		}
		fmt.Fprintln(w, line)
		if viol.Reason != "" {
			fmt.Fprintf(w, "    %s\n", viol.Reason)
		}
	}
}
