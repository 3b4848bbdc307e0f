// Package smoke starts a binary against an older glibc root with
// LD_BIND_NOW=1 and reports whether it came up: the proof, beyond the
// version needs read from the ELF file, that the binary and everything it
// loads resolve against that root's libc, libstdc++ and libraries.
//
// Two ways to run, both real:
//
//   - loader (no privileges): the root's own dynamic loader runs the binary
//     in place, `ROOT/lib/<triple>/ld-2.31.so --inhibit-cache --library-path
//     VIEW BIN ARGS`, with a clean environment. VIEW holds a link per NEEDED
//     name to the file the root's loader would load: relpack searches in
//     ld.so's order (RPATH, RUNPATH, then the root's folders for its cache
//     and default folders; search.go), since the root's folders given to
//     --library-path would come before every RUNPATH. $ORIGIN expands to the
//     folder the binary really is in. A name found nowhere fails the test
//     without starting it (the loader would go on to the host's folders);
//     a trace run (`--list`) checks that the loader took every library from
//     the view.
//   - chroot (root only): the binary (or the whole extracted artifact) is
//     copied to ROOT/tmp/relpack-smoke-*/ and started with
//     `unshare -m sh -c 'mount -t proc proc ROOT/proc && exec chroot ROOT ...'`:
//     the kernel reads PT_INTERP inside the root, glibc finds /proc/self/exe
//     for $ORIGIN, and the private mount namespace takes /proc away when the
//     run ends.
//
// A binary for another machine (aarch64 on an x86_64 host) runs under
// qemu-<machine>-static: in loader mode qemu runs the root's loader directly;
// in chroot mode the static qemu is copied into the temporary folder inside
// the root and started there, so binfmt_misc need not be registered.
package smoke

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"relpack/internal/pipeline"
	"relpack/internal/regular"
	"relpack/pkg/abi"
)

// Mode says how the binary is started.
type Mode string

const (
	ModeAuto   Mode = "auto"   // chroot when running as root and the root has bin/sh, else loader
	ModeLoader Mode = "loader" // the root's ld.so started directly; no privileges
	ModeChroot Mode = "chroot" // unshare -m + mount proc + chroot; needs root
)

// DefaultArgs are the program arguments when none are given.
var DefaultArgs = []string{"--version"}

// DefaultTimeout bounds one run of the program.
const DefaultTimeout = 60 * time.Second

// Options say what to start, where and how.
type Options struct {
	// Root is the extracted root file system: a debootstrap tree, an
	// exported container image, or a folder of libc files.
	Root string
	// File is an ELF executable or a .tar.gz artifact made by relpack.
	File string
	// Binary names the program inside an artifact ("bin/openshell-gateway");
	// empty: found from the artifact's name and layout.
	Binary string
	// Mode is auto (the zero value), loader or chroot.
	Mode Mode
	// Args are given to the program; nil means DefaultArgs. A non-nil empty
	// slice starts it without arguments.
	Args []string
	// Timeout bounds the run; 0 means DefaultTimeout.
	Timeout time.Duration
	// Context stops the run (Ctrl-C): the program's process group is
	// killed and Run returns ctx's error after its clean-up. nil: never.
	Context context.Context
}

// Result is what one smoke run found. Its JSON shape is the `--json` output
// of `relpack smoke` (docs/smoke.md); fields are only ever added.
type Result struct {
	File    string `json:"file"`             // the input as given (an ELF file or an artifact)
	Binary  string `json:"binary,omitempty"` // for an artifact: the program's path inside it
	Root    string `json:"root"`
	Mode    Mode   `json:"mode"` // loader or chroot: the mode that ran
	Machine string `json:"machine"`
	// Loader is the root's dynamic loader used, relative to the root
	// ("" for a static binary).
	Loader string `json:"loader,omitempty"`
	// Command is the command line that ran, as run (temporary paths included).
	Command  []string `json:"command"`
	ExitCode int      `json:"exit_code"`
	Stdout   string   `json:"stdout"`
	Stderr   string   `json:"stderr"`
	OK       bool     `json:"ok"`
	// LoaderError is the dynamic loader's own error line when the program
	// could not start ("... version `GLIBC_2.34' not found (required by ...)",
	// "error while loading shared libraries: libz3.so.4: cannot open shared
	// object file: ..."), or relpack's finding that a library would only
	// come from the host.
	LoaderError string `json:"loader_error"`
	// Notes say what the run did not check or how it ran (a static binary
	// checks no glibc; qemu; a timeout).
	Notes []string `json:"notes"`
}

// Error is bad input: the file or root cannot be smoke-tested at all. It
// names the file and says what to do.
type Error struct {
	Path string
	Msg  string
}

func (e *Error) Error() string { return e.Path + ": " + e.Msg }

func badf(path, format string, a ...any) error {
	return &Error{Path: path, Msg: fmt.Sprintf(format, a...)}
}

// Run starts the binary against the root and reports. A returned error
// means the test could not be run (bad input, missing tool or privilege);
// a program that does not start is a Result with OK false.
func Run(o Options) (res Result, err error) {
	j := &job{opts: o, res: Result{File: o.File, Root: o.Root, Notes: []string{}}}
	// Whatever happens: the work folder and what chroot mode added to the
	// root go (last added, first removed), then the root's lock is let go.
	defer j.unlockRoot()
	defer func() {
		if cerr := j.cleanUp(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	// No context: a Ctrl-C stops the program's run (job.run says so in its
	// error), never the quick stages before it.
	err = pipeline.Run(nil, j, stages)
	return j.res, err
}

// stages are Run's steps, in order, over one job.
var stages = []pipeline.Stage[*job]{
	{Name: "check the options", Run: (*job).checkOptions},        // defaults for arguments and timeout; the mode named
	{Name: "check the root", Run: (*job).resolveRoot},            // root: absolute, link-free, not the host
	{Name: "check the file", Run: (*job).checkFile},              // a regular file, before any folder is made
	{Name: "choose the mode", Run: (*job).chooseMode},            // auto becomes chroot or loader; chroot's privileges and tools
	{Name: "take a work folder", Run: (*job).takeWork},           // the root's lock (chroot); work, removed by Run
	{Name: "put the program in place", Run: (*job).placeProgram}, // the artifact extracted or the file copied: bin
	{Name: "read the program", Run: (*job).readProgram},          // facts; name; only executables go on
	{Name: "start it", Run: (*job).start},                        // the root's loader or a chroot, LD_BIND_NOW=1: the result
}

// job is one smoke run. Run's stages fill it in order; the fields say which
// stage adds them, and res is what every stage may add to.
type job struct {
	opts Options // as given; "check the options" fills in the defaults
	res  Result

	// added by "check the options"; "choose the mode" makes it loader or chroot
	mode Mode

	// added by "check the root"
	root string // absolute and link-free

	// added by "take a work folder"
	unlock  func()   // lets go of the root (chroot mode; nil otherwise)
	work    string   // loader: a host temporary folder; chroot: ROOT/tmp/relpack-smoke-*
	cleanup []func() // run last first by Run, whatever happens ("start it" adds proc/)
	left    error    // set by the clean-up when the work folder could not be removed

	// added by "put the program in place"
	bin string // host path of the program to start

	// added by "read the program"
	facts *abi.Facts
	name  string // the file as named in messages
}

// checkOptions fills in the default arguments, timeout and mode, and
// refuses an unknown mode.
func (j *job) checkOptions() error {
	o := &j.opts
	if o.Args == nil {
		o.Args = DefaultArgs
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	j.mode = o.Mode
	if j.mode == "" {
		j.mode = ModeAuto
	}
	if j.mode != ModeAuto && j.mode != ModeLoader && j.mode != ModeChroot {
		return badf(o.File, "unknown mode %q: use loader, chroot or auto", o.Mode)
	}
	return nil
}

// resolveRoot checks the root and records its absolute, link-free path.
func (j *job) resolveRoot() error {
	root, err := checkRoot(j.opts.Root)
	if err != nil {
		return err
	}
	j.root = root
	j.res.Root = root
	return nil
}

// checkFile refuses anything but a regular file. A FIFO would block the
// open and /dev/zero stream forever: only a regular file is read
// (internal/regular), refused here before any folder is made.
func (j *job) checkFile() error {
	o := j.opts
	if _, err := regular.Check(o.File); err != nil {
		var nr *regular.NotRegularError
		if errors.As(err, &nr) {
			return &Error{Path: o.File, Msg: "is " + regular.Kind(nr.Mode) + ", not a regular file: give a built binary or a relpack .tar.gz artifact"}
		}
		return &Error{Path: o.File, Msg: "cannot read it: " + unwrapPathError(err)}
	}
	return nil
}

// chooseMode decides the mode before extracting (chroot extracts straight
// into the root) and checks what chroot mode needs.
func (j *job) chooseMode() error {
	if j.mode == ModeAuto {
		mode, err := autoMode(j.root)
		if err != nil {
			return err
		}
		j.mode = mode
	}
	if j.mode == ModeChroot {
		if err := canChroot(j.root); err != nil {
			return err
		}
	}
	j.res.Mode = j.mode
	return nil
}

// takeWork makes the work folder: in loader mode a host temp folder; in
// chroot mode a folder under ROOT/tmp that the chroot sees as
// /tmp/relpack-smoke-*, with the root locked first.
func (j *job) takeWork() error {
	if j.mode == ModeChroot {
		// Chroot mode adds tmp/ and proc/ to the root when it lacks them
		// and removes them afterwards: two runs on one root at once would
		// each see the other's folders and one would leave them behind.
		// Runs on one root take turns (flock on the root folder; it dies
		// with the process).
		unlock, err := lockRoot(j.root)
		if err != nil {
			return err
		}
		j.unlock = unlock
		if err := j.makeWorkInRoot(); err != nil {
			return err
		}
	} else {
		work, err := os.MkdirTemp("", "relpack-smoke-")
		if err != nil {
			return err
		}
		j.work = work
	}
	j.cleanup = append(j.cleanup, func() {
		// A folder left in the root is a write outside what the run
		// may keep: say so rather than pass quietly.
		if rerr := os.RemoveAll(j.work); rerr != nil {
			j.left = badf(j.root, "could not remove the smoke test's temporary folder %s: %v; remove it by hand", j.work, rerr)
		}
	})
	return os.Chmod(j.work, 0o755)
}

// makeWorkInRoot makes the work folder in ROOT/tmp, making tmp/ first when
// the root lacks it (removed again by the clean-up).
func (j *job) makeWorkInRoot() error {
	tmp, created, err := ensureDir(j.root, "tmp", 0o1777)
	if err != nil {
		return err
	}
	if created {
		j.cleanup = append(j.cleanup, func() { os.Remove(tmp) })
	}
	j.work, err = os.MkdirTemp(tmp, "relpack-smoke-")
	if err != nil {
		return badf(j.root, "cannot make a temporary folder in %s: %v", tmp, err)
	}
	return nil
}

// cleanUp runs the clean-up, last added first, and returns the failure to
// remove the work folder, if any.
func (j *job) cleanUp() error {
	for i := len(j.cleanup) - 1; i >= 0; i-- {
		j.cleanup[i]()
	}
	return j.left
}

// unlockRoot lets go of the root, if the run locked it.
func (j *job) unlockRoot() {
	if j.unlock != nil {
		j.unlock()
	}
}

// placeProgram puts the program in place: the artifact's tree, or the file
// itself (copied into the root in chroot mode).
func (j *job) placeProgram() error {
	o := j.opts
	if IsArtifact(o.File) {
		return j.extractArtifact()
	}
	if o.Binary != "" {
		return badf(o.File, "--bin names a file inside an artifact, but this is not a .tar.gz")
	}
	if j.mode == ModeChroot {
		j.bin = filepath.Join(j.work, filepath.Base(o.File))
		return copyFile(o.File, j.bin, 0o755)
	}
	bin, err := filepath.Abs(o.File)
	if err != nil {
		return err
	}
	j.bin = bin
	return nil
}

// extractArtifact extracts the artifact into the work folder and picks the
// program to start in it.
func (j *job) extractArtifact() error {
	o := j.opts
	files, err := extractTarGz(o.File, j.work)
	if err != nil {
		return &Error{Path: o.File, Msg: err.Error() + " (is it an artifact made by relpack?)"}
	}
	rel, err := pickBinary(o.File, j.work, files, o.Binary)
	if err != nil {
		return &Error{Path: o.File, Msg: err.Error()}
	}
	j.res.Binary = rel
	j.bin = filepath.Join(j.work, filepath.FromSlash(rel))
	return nil
}

// readProgram reads the program's ELF facts and refuses anything but an
// executable.
func (j *job) readProgram() error {
	o := j.opts
	name := o.File
	if j.res.Binary != "" {
		name += " (" + j.res.Binary + ")"
	}
	facts, err := abi.Inspect(j.bin)
	if err != nil {
		return &Error{Path: name, Msg: "not an ELF executable: smoke starts a built Linux binary or a relpack .tar.gz artifact"}
	}
	j.res.Machine = facts.Machine
	if facts.Type != abi.TypeExecutable && facts.Type != abi.TypePIEExecutable {
		return badf(name, "is a %s, not an executable: smoke starts programs (test a library through a program that loads it)", facts.Type)
	}
	j.facts, j.name = facts, name
	return nil
}

// start runs the program in the chosen mode and fills in the result.
func (j *job) start() error {
	if j.mode == ModeLoader {
		return j.loaderMode()
	}
	return j.chrootMode()
}

// checkRoot returns the root's absolute, link-free path.
func checkRoot(root string) (string, error) {
	if root == "" {
		return "", &Error{Path: "--root", Msg: "no root given: pass an extracted root file system (debootstrap, docker export) or a folder of libc files"}
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", &Error{Path: root, Msg: "root not found: " + unwrapPathError(err)}
	}
	fi, err := os.Stat(real)
	if err != nil || !fi.IsDir() {
		return "", &Error{Path: root, Msg: "the root must be a folder (an extracted root file system or a folder of libc files)"}
	}
	if real == "/" {
		return "", &Error{Path: root, Msg: "the root is the host itself: give an older root file system"}
	}
	return real, nil
}

func autoMode(root string) (Mode, error) {
	if os.Geteuid() != 0 || !isFullRoot(root) {
		return ModeLoader, nil
	}
	if err := canChroot(root); err != nil {
		return ModeLoader, nil
	}
	return ModeChroot, nil
}

func unwrapPathError(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// ensureDir makes root/rel if it is missing and says whether it did.
func ensureDir(root, rel string, mode os.FileMode) (string, bool, error) {
	p, err := resolveIn(root, rel)
	if err == nil {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p, false, nil
		}
		return "", false, badf(root, "%s exists but is not a folder", rel)
	}
	p = filepath.Join(root, rel)
	if err := os.Mkdir(p, mode); err != nil {
		return "", false, badf(root, "cannot make %s for the chroot: %v", rel, err)
	}
	if err := os.Chmod(p, mode); err != nil {
		return "", false, err
	}
	return p, true, nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, _, err := regular.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return writeFile(dst, in, mode)
}

// rel returns host path p as the chroot sees it (p must be inside root).
func chrootPath(root, p string) string {
	r, err := filepath.Rel(root, p)
	if err != nil || strings.HasPrefix(r, "..") {
		return p
	}
	return "/" + filepath.ToSlash(r)
}

// lockRoot takes an exclusive flock on the root folder, waiting for any
// other chroot-mode run on the same root.
func lockRoot(root string) (func(), error) {
	f, err := os.Open(root)
	if err != nil {
		return nil, badf(root, "cannot open the root: %v", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, badf(root, "cannot lock the root: %v", err)
	}
	return func() { f.Close() }, nil
}
