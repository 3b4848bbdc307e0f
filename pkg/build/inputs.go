// Package build runs `relpack build`: it inspects and verifies every input,
// plans every artifact, and only then writes them, all or nothing.
package build

import (
	"fmt"
	"os"
	"strings"

	"relpack/pkg/abi"
	"relpack/pkg/config"
	"relpack/pkg/deps"
)

// Input is one input binary, inspected and checked against its triple.
type Input struct {
	Triple  string
	Machine string // from the triple: x86_64, aarch64
	Libc    abi.Libc
	Path    string
	Facts   *abi.Facts
	Verdict abi.Verdict
	Z3      string
	Z3So    string
}

// IsGNU reports whether the triple is a glibc one.
func (in *Input) IsGNU() bool { return in.Libc == abi.LibcGlibc }

// InputError is a problem with an input binary; it names the triple, the
// file and what to do.
type InputError struct {
	Triple, Path, Msg string
}

func (e *InputError) Error() string {
	return fmt.Sprintf("input %s (%s): %s", e.Triple, e.Path, e.Msg)
}

// checkInput inspects one input and holds it to its triple and the floor.
func checkInput(cfg *config.Config, triple, path string, policy abi.Policy) (*Input, error) {
	m := config.TripleRE.FindStringSubmatch(triple)
	if m == nil {
		return nil, &InputError{triple, path, "unknown target triple; use x86_64 or aarch64 with -unknown-linux-gnu or -unknown-linux-musl"}
	}
	in := &Input{Triple: triple, Machine: m[1], Path: path, Libc: abi.LibcGlibc}
	if m[2] == "musl" {
		in.Libc = abi.LibcMusl
	}
	if err := checkConfined(cfg, "input "+triple, path); err != nil {
		return nil, err
	}
	st, err := os.Stat(path)
	switch {
	case os.IsNotExist(err):
		return nil, &InputError{triple, path, "the file does not exist; build it first, or fix inputs." + triple + " in " + cfg.File + " (or --bin " + triple + "=PATH)"}
	case err != nil:
		return nil, &InputError{triple, path, err.Error()}
	case st.IsDir():
		return nil, &InputError{triple, path, "is a directory; give the binary inside it"}
	}
	f, err := abi.Inspect(path)
	if err != nil {
		return nil, &InputError{triple, path, strings.TrimPrefix(err.Error(), path+": ")}
	}
	in.Facts = f
	if f.Type == abi.TypeSharedLibrary || f.Type == abi.TypeRelocatable {
		return nil, &InputError{triple, path, fmt.Sprintf("is a %s, not an executable", f.Type)}
	}
	if f.Machine != in.Machine {
		return nil, &InputError{triple, path, fmt.Sprintf("is built for %s, but %s is an %s triple; give the %s build", f.Machine, triple, in.Machine, in.Machine)}
	}
	switch in.Libc {
	case abi.LibcGlibc:
		if f.Libc != abi.LibcGlibc {
			what := string(f.Libc)
			if f.Libc == abi.LibcMusl || (f.Linkage == abi.LinkageStatic && f.Libc == abi.LibcUnknown) {
				what = "a musl or static binary"
			}
			return nil, &InputError{triple, path, fmt.Sprintf("is %s (%s, interpreter %q), not a glibc binary; give it as the -musl triple, or give the glibc build here", what, f.Linkage, f.Interpreter)}
		}
	case abi.LibcMusl:
		if f.Libc == abi.LibcGlibc {
			return nil, &InputError{triple, path, fmt.Sprintf("is a glibc binary (interpreter %q); give it as the -gnu triple, or give the musl build here", f.Interpreter)}
		}
	}
	in.Verdict = abi.Verify(f, policy)
	if !in.Verdict.OK {
		var b strings.Builder
		abi.WriteVerdict(&b, in.Verdict, policy)
		return nil, &InputError{triple, path, fmt.Sprintf("breaks the promised floor (floor.glibc %s in %s):\n%s"+
			"Rebuild against an older glibc (a sysroot or a manylinux_2_28/EL8 build image), or avoid those symbols.",
			policy.Glibc(), cfg.File, strings.TrimRight(b.String(), "\n"))}
	}
	in.Z3, in.Z3So = deps.Z3(f)
	if cfg.Z3 != "" && in.IsGNU() && cfg.Z3 != in.Z3 {
		detail := "its DT_NEEDED has no libz3"
		if in.Z3So != "" {
			detail = "its DT_NEEDED names " + in.Z3So
		}
		return nil, &InputError{triple, path, fmt.Sprintf("%s says z3: %s, but the binary is %s (%s); fix the build or the z3 line", cfg.File, cfg.Z3, in.Z3, detail)}
	}
	return in, nil
}
