// Package build runs `relpack build`: it inspects and verifies every input,
// plans every artifact, and only then writes them, all or nothing.
package release

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"relpack/internal/regular"
	"relpack/pkg/abi"
	"relpack/pkg/config"
	"relpack/pkg/deps"
)

// Input is one input binary, inspected and checked against its triple.
type Input struct {
	Triple  string
	Machine string // from the triple: x86_64, aarch64
	Libc    abi.Libc
	Path    string // as configured, for messages and the manifest
	Data    string // the build's private copy: what is inspected and packaged
	SHA256  string // of Data
	Facts   *abi.Facts
	Verdict abi.Verdict
	Z3      string
	Z3So    string
	// Unversioned are the undefined, non-weak symbols bound without a
	// version (Z3's API): checked against each target's captured exports.
	Unversioned []string
	// Undefined are all its undefined dynamic symbols, weak ones too, as
	// NAME@VERSION or NAME@Base: looked up in Debian symbols files.
	Undefined []string
	// Src is the path as the configuration (or --bin) names it, made
	// absolute: the key of debug_symbols.files.
	Src string
	// BuildID is its GNU build-id when its debug symbols are split (the
	// stage "split debug symbols"), else "".
	BuildID string
	// debug is its split debug symbols; nil when they are not split (the
	// input is packaged as given).
	debug *debugSplit
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

// checkInput inspects one input (its private copy, src) and holds it to
// its triple and the floor.
func checkInput(cfg *config.Config, triple string, src *source, policies policySet) (*Input, error) {
	path := src.Name
	m := config.TripleRE.FindStringSubmatch(triple)
	if m == nil {
		return nil, &InputError{triple, path, "unknown target triple; use x86_64 or aarch64 with -unknown-linux-gnu or -unknown-linux-musl"}
	}
	in := &Input{Triple: triple, Machine: m[1], Path: path, Data: src.Path, SHA256: src.SHA256, Libc: abi.LibcGlibc}
	if m[2] == "musl" {
		in.Libc = abi.LibcMusl
	}
	policy := policies.of(in.Machine)
	f, err := src.inspect()
	if err != nil {
		return nil, &InputError{triple, path, abiDetail(err)}
	}
	in.Facts = f
	// Derived from the facts: the file is read once.
	in.Unversioned, in.Undefined = deps.UnversionedImports(f), deps.UndefinedSymbols(f)
	if f.Type == abi.TypeSharedLibrary || f.Type == abi.TypeRelocatable {
		return nil, &InputError{triple, path, fmt.Sprintf("is a %s, not an executable", f.Type)}
	}
	if f.Machine != in.Machine {
		return nil, &InputError{triple, path, fmt.Sprintf("is built for %s, but %s is an %s triple; give the %s build", f.Machine, triple, in.Machine, in.Machine)}
	}
	// One rule for the libc of an input (docs/config.md, "Inputs"): a -gnu
	// input is dynamically linked against glibc, because the floor the
	// packages stamp is read from its version needs and its packages depend
	// on libc6/glibc; a -musl input is a musl build, dynamic or static. A
	// static glibc binary fits neither: it records no version needs, so no
	// floor can be proven, and it still loads the host's NSS modules
	// (getaddrinfo, getpwnam) which must match the glibc it was linked with.
	staticGlibc := f.Linkage == abi.LinkageStatic && f.Libc == abi.LibcGlibc
	switch {
	case staticGlibc:
		return nil, &InputError{triple, path, "is a statically linked glibc binary: it records no glibc version needs, so no floor can be proven, and it loads the host's NSS modules at run time, which must be its own glibc version. Link it dynamically and give it as the -gnu triple, or build it with musl (static is fine) and give it as the -musl triple"}
	case in.Libc == abi.LibcGlibc && f.Libc != abi.LibcGlibc:
		what := string(f.Libc)
		if f.Libc == abi.LibcMusl || (f.Linkage == abi.LinkageStatic && f.Libc == abi.LibcUnknown) {
			what = "a musl or static binary"
		}
		return nil, &InputError{triple, path, fmt.Sprintf("is %s (%s, interpreter %s), not a dynamically linked glibc binary; give it as the -musl triple, or give the glibc build here", what, f.Linkage, quoteInterp(f.Interpreter))}
	case in.Libc == abi.LibcMusl && f.Libc == abi.LibcGlibc:
		return nil, &InputError{triple, path, fmt.Sprintf("is a glibc binary (interpreter %s); give it as the -gnu triple, or give the musl build here", quoteInterp(f.Interpreter))}
	}
	in.Verdict = abi.Verify(f, policy)
	if !in.Verdict.OK {
		var b strings.Builder
		abi.WriteVerdict(&b, in.Verdict, policy)
		return nil, &InputError{triple, path, fmt.Sprintf("breaks the promised floor (floor.glibc %s in %s):\n%s\n"+
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

// abiDetail is an inspection error without the file's name, for a message
// that names the file itself.
func abiDetail(err error) string {
	var ae *abi.Error
	if errors.As(err, &ae) {
		return ae.Detail()
	}
	return err.Error()
}

// quoteInterp prints an interpreter path read from the file: quoted, with
// any control character escaped (a crafted PT_INTERP must not drive the
// terminal).
func quoteInterp(s string) string {
	if s == "" {
		return "none"
	}
	return strconv.QuoteToGraphic(s)
}

// inputStat checks an input binary by stat alone, with the advice that
// fits an input.
func inputStat(cfg *config.Config, triple, path string) (os.FileInfo, error) {
	st, err := regular.Check(path)
	path = cfg.Given(path)
	var nr *regular.NotRegularError
	switch {
	case err == nil:
		return st, nil
	case os.IsNotExist(err):
		return nil, &InputError{triple, path, "the file does not exist; build it first, or fix inputs." + triple + " in " + cfg.Where("inputs."+triple) + " (or --bin " + triple + "=PATH)"}
	case errors.As(err, &nr) && nr.Mode.IsDir():
		return nil, &InputError{triple, path, "is a directory; give the binary inside it"}
	case errors.As(err, &nr):
		return nil, &InputError{triple, path, "is " + regular.Kind(nr.Mode) + ", not a regular file; give the built binary itself"}
	}
	return nil, &InputError{triple, path, err.Error()}
}

// takeInput copies an input into the build's snapshot.
func takeInput(cfg *config.Config, snap *snapshot, triple, path string) (*source, error) {
	if _, err := inputStat(cfg, triple, path); err != nil {
		return nil, err
	}
	return snap.take(cfg, cfg.File, "input "+triple, path)
}
