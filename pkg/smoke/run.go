package smoke

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"relpack/pkg/abi"
)

// maxOutput caps what is kept of each of the program's stdout and stderr.
const maxOutput = 1 << 20

type runner struct {
	opts    Options
	res     *Result
	root    string
	work    string
	bin     string
	facts   *abi.Facts
	name    string // the file as named in messages
	cleanup *[]func()
}

// hostMachine is this machine in abi's names.
func hostMachine() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	}
	return runtime.GOARCH
}

// emulator returns the qemu user-mode emulator for a machine the host cannot
// run natively ("" when it can). static asks for one that runs inside a
// chroot (no shared libraries of its own).
func emulator(machine string, static bool, name string) (string, error) {
	if machine == hostMachine() {
		return "", nil
	}
	var tried []string
	for _, q := range []string{"qemu-" + machine + "-static", "qemu-" + machine} {
		tried = append(tried, q)
		p, err := exec.LookPath(q)
		if err != nil {
			continue
		}
		if static {
			f, err := abi.Inspect(p)
			if err != nil || f.Linkage != abi.LinkageStatic {
				continue
			}
		}
		return p, nil
	}
	what := ""
	if static {
		what = " statically linked (it must run inside the chroot)"
	}
	return "", badf(name, "is %s and this host is %s: starting it needs qemu user-mode emulation, but no%s %s is on PATH: install qemu-user-static (apt-get install qemu-user-static)",
		machine, hostMachine(), what, strings.Join(tried, " or "))
}

// badRoot explains why a root has no loader for the binary.
func (r *runner) badRoot(err error) error {
	m := r.facts.Machine
	if rm, rel := rootMachine(r.root); rm != "" && rm != m {
		return badf(r.opts.Root, "is an %s root (it has %s) but %s is %s: give an %s root (debootstrap --arch, docker export of an %s image, or testdata/sysroot.sh)",
			rm, rel, r.name, m, m, m)
	}
	return badf(r.opts.Root, "has no %s glibc dynamic loader (%v): give an extracted root file system (debootstrap, docker export) or a folder of %s libc files",
		m, err, m)
}

func (r *runner) note(format string, a ...any) {
	r.res.Notes = append(r.res.Notes, fmt.Sprintf(format, a...))
}

// env is the clean environment of every run: nothing from the caller
// (no LD_LIBRARY_PATH, LD_PRELOAD, QEMU_*), LD_BIND_NOW=1 so that every
// symbol binds at start-up, not at its first call.
func env() []string {
	return []string{"LD_BIND_NOW=1", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"}
}

func (r *runner) loaderMode() error {
	f := r.facts
	qemu, err := emulator(f.Machine, false, r.name)
	if err != nil {
		return err
	}
	var prefix []string
	if qemu != "" {
		prefix = []string{qemu}
		r.note("%s runs under %s (this host is %s); qemu starts the root's loader itself, so no binfmt_misc and no -L prefix are involved", f.Machine, filepath.Base(qemu), hostMachine())
	}
	if f.Linkage == abi.LinkageStatic {
		r.note("statically linked: started directly, no glibc from the root was checked (the binary carries its own libc)")
		return r.run(append(append(prefix, r.bin), r.opts.Args...))
	}
	if f.Libc == abi.LibcMusl {
		return badf(r.name, "is a dynamically linked musl binary (interpreter %s): loader mode runs a glibc root's loader; use --mode chroot with a musl root (Alpine)", f.Interpreter)
	}
	ld, err := findLoader(r.root, f.Machine, f.Interpreter)
	if err != nil {
		return r.badRoot(err)
	}
	r.res.Loader = ld.Rel
	// $ORIGIN is the folder the program really is in: the kernel gives
	// the loader the resolved path (/proc/self/exe), while a loader
	// started by hand takes the path it is given, links and all.
	if real, err := filepath.EvalSymlinks(r.bin); err == nil {
		r.bin = real
	}

	// The root's loader cannot search the root's folders in its own order
	// from outside a chroot (search.go says why); relpack searches, and
	// hands the loader exactly the files it found, through a view folder.
	tr, err := searchTree(r.root, r.bin, f, ld)
	if err != nil {
		return err
	}
	r.res.Notes = append(r.res.Notes, tr.notes...)
	view, err := os.MkdirTemp(r.work, ".relpack-libraries-")
	if err != nil {
		return err
	}
	for _, l := range tr.libs {
		if strings.Contains(l.name, "/") {
			continue // opened by path; noted by searchTree
		}
		if err := os.Symlink(l.host, filepath.Join(view, l.name)); err != nil {
			return badf(r.name, "cannot link %s into the loader's view: %v", l.name, err)
		}
	}
	base := append(append(prefix, ld.Host, "--inhibit-cache"), "--library-path", view)
	if len(tr.missing) > 0 {
		var parts []string
		for _, m := range tr.missing {
			parts = append(parts, fmt.Sprintf("%s: cannot open shared object file: not in the root (needed by %s; searched %s)", m.name, m.neededBy, strings.Join(m.searched, ", ")))
		}
		r.res.Command = append(append(base, r.bin), r.opts.Args...)
		r.res.ExitCode = 127
		r.res.LoaderError = "error while loading shared libraries: " + strings.Join(parts, "; ")
		r.note("not started: no file in the binary's RUNPATH/RPATH nor in the root's library folders answers to that name, where the root's own loader would look; outside a chroot the loader would go on to this host's folders; exit code 127 is the loader's")
		return nil
	}
	if len(tr.libs) > 0 {
		var links []string
		for _, l := range tr.libs {
			links = append(links, l.name+" = "+l.host)
		}
		r.note("the loader takes each library from %s, links to the files the root's own loader would load (the binary's RUNPATH before the root's folders): %s", view, strings.Join(links, ", "))
	}

	// Trace first: outside a chroot the loader searches the host's own
	// folders for a library the view lacks. A library found only there
	// would make the run pass (or fail) for the host's sake, not the root's.
	trace := append(append(append([]string{}, base...), "--list"), r.bin)
	out, _, _, _ := execute(r.opts.Context, trace, r.opts.Timeout)
	if leaks := hostLibraries(out, r.root, f.Machine); len(leaks) > 0 {
		r.res.Command = trace
		r.res.ExitCode = 127
		r.res.Stdout = out
		var parts []string
		for _, l := range leaks {
			parts = append(parts, fmt.Sprintf("%s: cannot open shared object file: not in the root (outside a chroot the loader would take the host's %s)", l.name, l.path))
		}
		r.res.LoaderError = strings.Join(parts, "; ")
		r.note("not started: the loader's trace (--list) found libraries only on this host; a chroot run reports the loader's own \"cannot open shared object file\"; exit code 127 is the loader's")
		return nil
	}
	// And the loader must have taken every library from the view: a
	// DT_RPATH folder is searched before --library-path, and the loader
	// reads it on this host, not in the root.
	if off := offView(out, view, tr); len(off) > 0 {
		return badf(r.name, "loader mode cannot reproduce the root's loader here: outside a chroot it took %s, not the root's file; use --mode chroot", strings.Join(off, ", "))
	}
	return r.run(append(append(base, r.bin), r.opts.Args...))
}

// offView reads `ld.so --list` output and returns, for each library the
// search found, the ones the loader took from another file than the one
// linked in the view ("libz3.so.4 from /opt/lib/libz3.so.4"). The same
// file reached through another path (a DT_RPATH $ORIGIN/../lib, searched
// before the view) is the same library.
func offView(list, view string, tr *tree) []string {
	want := map[string]string{}
	for _, l := range tr.libs {
		if !strings.Contains(l.name, "/") {
			want[l.name] = l.host
		}
	}
	var out []string
	sc := bufio.NewScanner(strings.NewReader(list))
	for sc.Scan() {
		name, rest, ok := strings.Cut(strings.TrimSpace(sc.Text()), " => ")
		host, found := want[name]
		if !ok || !found {
			continue
		}
		p := rest
		if i := strings.LastIndex(rest, " (0x"); i >= 0 {
			p = rest[:i]
		}
		if p == filepath.Join(view, name) {
			continue
		}
		a, errA := os.Stat(p)
		b, errB := os.Stat(host)
		if errA != nil || errB != nil || !os.SameFile(a, b) {
			out = append(out, name+" from "+p)
		}
	}
	return out
}

type hostLib struct{ name, path string }

// hostLibraries reads `ld.so --list` output ("libz3.so.4 => /path (0x...)")
// and returns the libraries resolved from the host's default folders.
func hostLibraries(list, root, machine string) []hostLib {
	sys := systemDirs(machine)
	var out []hostLib
	sc := bufio.NewScanner(strings.NewReader(list))
	for sc.Scan() {
		name, rest, ok := strings.Cut(strings.TrimSpace(sc.Text()), " => ")
		if !ok {
			continue
		}
		p := rest
		if i := strings.LastIndex(rest, " (0x"); i >= 0 {
			p = rest[:i]
		}
		if !filepath.IsAbs(p) || p == root || strings.HasPrefix(p, root+"/") {
			continue
		}
		if sys[filepath.Dir(filepath.Clean(p))] {
			out = append(out, hostLib{name: name, path: p})
		}
	}
	return out
}

// canChroot checks what chroot mode needs before anything is copied.
func canChroot(root string) error {
	if os.Geteuid() != 0 {
		return badf(root, "chroot mode needs root privileges (unshare, mount, chroot): run as root or use --mode loader")
	}
	for _, t := range []string{"unshare", "mount", "chroot", "sh"} {
		if _, err := exec.LookPath(t); err != nil {
			return badf(root, "chroot mode needs %s on PATH (util-linux, coreutils): install it or use --mode loader", t)
		}
	}
	return nil
}

func (r *runner) chrootMode() error {
	f := r.facts
	proc, created, err := ensureDir(r.root, "proc", 0o555)
	if err != nil {
		return err
	}
	if created {
		*r.cleanup = append(*r.cleanup, func() { os.Remove(proc) })
	}
	var inside []string
	qemu, err := emulator(f.Machine, true, r.name)
	if err != nil {
		return err
	}
	if qemu != "" {
		q := filepath.Join(r.work, filepath.Base(qemu))
		if err := copyFile(qemu, q, 0o755); err != nil {
			return err
		}
		inside = append(inside, chrootPath(r.root, q))
		r.note("%s runs under %s (this host is %s), copied into the root's temporary folder: binfmt_misc need not be registered", f.Machine, filepath.Base(qemu), hostMachine())
	}
	switch {
	case f.Linkage == abi.LinkageStatic:
		r.note("statically linked: started in the chroot, no glibc from the root was checked (the binary carries its own libc)")
	default:
		if _, err := findLoader(r.root, f.Machine, ""); err != nil && f.Libc != abi.LibcMusl {
			return r.badRoot(err)
		}
		if _, err := resolveIn(r.root, f.Interpreter); err == nil {
			r.res.Loader = strings.TrimPrefix(f.Interpreter, "/")
		} else {
			r.note("the root has no %s, the interpreter the binary names: the kernel cannot start it there", f.Interpreter)
		}
	}
	inside = append(inside, chrootPath(r.root, r.bin))
	inside = append(inside, r.opts.Args...)
	// The mount exists only in unshare's private mount namespace: it ends
	// with the process, whatever happens to relpack.
	script := `mount -t proc proc "$1" || exit 125; r=$2; shift 2; exec chroot "$r" "$@"`
	cmd := append([]string{"unshare", "--mount", "--propagation", "private", "sh", "-c", script, "relpack-smoke", proc, r.root}, inside...)
	if err := r.run(cmd); err != nil {
		return err
	}
	// Failures of the harness itself are not the binary's.
	if r.res.OK {
		return nil
	}
	for _, line := range strings.Split(r.res.Stderr, "\n") {
		if strings.HasPrefix(line, "unshare: ") || strings.HasPrefix(line, "mount: ") || strings.HasPrefix(line, "chroot: cannot change root") {
			return badf(r.opts.Root, "chroot mode could not start: %s (inside a container, run privileged or use --mode loader)", strings.TrimSpace(line))
		}
	}
	return nil
}

// run executes cmd and fills the result.
func (r *runner) run(cmd []string) error {
	r.res.Command = cmd
	stdout, stderr, code, err := execute(r.opts.Context, cmd, r.opts.Timeout)
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: interrupted: %w", r.name, err)
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: starting %s: %w", r.name, cmd[0], err)
	}
	r.res.Stdout, r.res.Stderr, r.res.ExitCode = stdout, stderr, code
	if errors.Is(err, context.DeadlineExceeded) {
		r.note("killed after %s: the program did not exit (does it take %q?)", r.opts.Timeout, strings.Join(r.opts.Args, " "))
		r.res.ExitCode = -1
		return nil
	}
	r.res.OK = code == 0
	if !r.res.OK {
		r.res.LoaderError = loaderLine(stderr)
	}
	return nil
}

// execute runs cmd in its own process group with the clean environment and
// returns its output and exit code (128+signal when killed by a signal).
// The error is nil, context.DeadlineExceeded on a timeout,
// context.Canceled when parent was cancelled (the group is killed then
// too), or the failure to start cmd[0].
func execute(parent context.Context, cmd []string, timeout time.Duration) (string, string, int, error) {
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	c := exec.CommandContext(ctx, cmd[0], cmd[1:]...)
	c.Env = env()
	c.Dir = "/"
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
	c.WaitDelay = 5 * time.Second
	var o, e capped
	c.Stdout, c.Stderr = &o, &e
	err := c.Run()
	if parent.Err() != nil {
		return o.String(), e.String(), -1, context.Canceled
	}
	if ctx.Err() != nil {
		return o.String(), e.String(), -1, context.DeadlineExceeded
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code := ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
		return o.String(), e.String(), code, nil
	}
	if err != nil {
		return o.String(), e.String(), -1, err
	}
	return o.String(), e.String(), 0, nil
}

// capped keeps the first maxOutput bytes written to it.
type capped struct {
	bytes.Buffer
	dropped bool
}

func (c *capped) Write(p []byte) (int, error) {
	if room := maxOutput - c.Len(); room < len(p) {
		c.dropped = true
		if room > 0 {
			c.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return c.Buffer.Write(p)
}

func (c *capped) String() string {
	if c.dropped {
		return c.Buffer.String() + "\n[relpack: output cut at 1 MiB]\n"
	}
	return c.Buffer.String()
}

// loaderMarkers are what the dynamic loader (and the kernel, chroot and
// qemu on its behalf) print when a program cannot start.
var loaderMarkers = []string{
	"error while loading shared libraries",
	"version `",
	"cannot open shared object file",
	"symbol lookup error",
	"undefined symbol",
	"chroot: failed to run command",
	"cannot execute binary file",
	"Exec format error",
	"Could not open '", // qemu: the interpreter is missing
}

// loaderLine returns the first line of stderr that is the loader's error.
func loaderLine(stderr string) string {
	for _, line := range strings.Split(stderr, "\n") {
		for _, m := range loaderMarkers {
			if strings.Contains(line, m) {
				return strings.TrimSpace(line)
			}
		}
	}
	return ""
}
