package abi

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// quoteName makes a string read from an ELF file safe to print on a
// terminal. Names come from the file, and a crafted file can put escape
// sequences in PT_INTERP or a symbol name that move the cursor, retitle the
// window or hide the lines around them. A name of printable UTF-8 without
// control characters is printed as it is, so real output stays as people
// know it; anything else, the empty string, and a name that itself starts
// with a double quote (it would pass for a quoted one) are printed
// strconv.Quote'd: "\x1b[2J", "".
func quoteName(s string) string {
	if s == "" || s[0] == '"' || !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// quoteNames is quoteName over a list.
func quoteNames(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = quoteName(s)
	}
	return out
}

// joinNames quotes each name and joins them with sep.
func joinNames(in []string, sep string) string { return strings.Join(quoteNames(in), sep) }

// WriteFacts prints facts for people: one block per file. Every string taken
// from the file (and the path, which may come from a hostile directory
// listing) goes through quoteName.
func WriteFacts(w io.Writer, f *Facts) {
	fmt.Fprintf(w, "%s\n", quoteName(f.Path))
	fmt.Fprintf(w, "  type:        %s, %s %s (%s-endian)\n", f.Type, f.Class, f.Machine, f.Endian)
	fmt.Fprintf(w, "  libc:        %s (%s)\n", f.Libc, f.Linkage)
	if f.Interpreter != "" {
		fmt.Fprintf(w, "  interpreter: %s\n", quoteName(f.Interpreter))
	}
	if f.Soname != "" {
		fmt.Fprintf(w, "  soname:      %s\n", quoteName(f.Soname))
	}
	if len(f.Needed) > 0 {
		fmt.Fprintf(w, "  needed:      %s\n", joinNames(f.Needed, ", "))
	}
	if len(f.Runpath) > 0 {
		fmt.Fprintf(w, "  runpath:     %s\n", joinNames(f.Runpath, ":"))
	}
	if len(f.Rpath) > 0 {
		fmt.Fprintf(w, "  rpath:       %s\n", joinNames(f.Rpath, ":"))
	}
	if len(f.Highest) > 0 {
		var parts []string
		for _, h := range f.Highest {
			parts = append(parts, quoteName(h.Name))
		}
		fmt.Fprintf(w, "  highest:     %s\n", strings.Join(parts, ", "))
	}
	if len(f.Special) > 0 {
		fmt.Fprintf(w, "  special:     %s\n", joinNames(f.Special, ", "))
	}
	if len(f.VersionNeeds) > 0 {
		fmt.Fprintf(w, "  version needs:\n")
		for _, vn := range f.VersionNeeds {
			var names []string
			for _, v := range vn.Versions {
				n := quoteName(v.Name)
				if v.Weak {
					n += " (weak)"
				}
				names = append(names, n)
			}
			fmt.Fprintf(w, "    %s: %s\n", quoteName(vn.Library), strings.Join(names, ", "))
		}
	}
	if len(f.Imports) > 0 {
		fmt.Fprintf(w, "  imports by version:\n")
		for _, g := range f.Imports {
			lib, ver := "(any)", "(unversioned)"
			if g.Library != "" {
				lib = quoteName(g.Library)
			}
			if g.Version != "" {
				ver = quoteName(g.Version)
			}
			fmt.Fprintf(w, "    %s %s: %s\n", lib, ver, joinNames(g.Symbols, ", "))
		}
	}
	if len(f.Defines) > 0 {
		fmt.Fprintf(w, "  defines:     %s\n", joinNames(f.Defines, ", "))
	}
}

// WriteVerdict prints a verdict for people: "ok" on one line, or the
// highest versions found and every offending symbol grouped by version.
func WriteVerdict(w io.Writer, v Verdict, p Policy) {
	if v.OK {
		msg := fmt.Sprintf("ok: %s meets %s", quoteName(v.Path), p.Name)
		if v.Note != "" {
			msg += " (" + v.Note + ")"
		} else if len(v.Highest) > 0 {
			var parts []string
			for _, h := range v.Highest {
				parts = append(parts, quoteName(h.Name))
			}
			msg += " (highest: " + strings.Join(parts, ", ") + ")"
		}
		fmt.Fprintln(w, msg)
		return
	}
	fmt.Fprintf(w, "FAIL: %s does not meet %s\n", quoteName(v.Path), p.Name)
	if len(v.Highest) > 0 {
		var parts []string
		for _, h := range v.Highest {
			parts = append(parts, quoteName(h.Name))
		}
		fmt.Fprintf(w, "  highest: %s\n", strings.Join(parts, ", "))
	}
	for _, viol := range v.Violations {
		syms := joinNames(viol.Symbols, ", ")
		if syms == "" {
			syms = "(no symbol; the file as a whole needs it)"
		}
		line := fmt.Sprintf("  %s: %s", quoteName(viol.Name), syms)
		if viol.Floor != "" && viol.Version != "" {
			line += fmt.Sprintf("  [floor %s_%s, from %s]", quoteName(viol.Family), viol.Floor, joinNames(viol.Libraries, ", "))
			if src := p.Sources[viol.Family]; src != "" && viol.Family != "GLIBC" {
				// Where the limit comes from: the catalog target whose
				// runtime sets it, so the reader knows which distro the
				// binary would not start on.
				line += "\n    limit " + quoteName(viol.Family) + "_" + viol.Floor + ": " + src
			}
		}
		fmt.Fprintln(w, line)
		if viol.Reason != "" {
			fmt.Fprintf(w, "    %s\n", viol.Reason)
		}
	}
}
