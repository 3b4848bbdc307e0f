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
func (j *job) badRoot(err error) error {
	m := j.facts.Machine
	if rm, rel := rootMachine(j.root); rm != "" && rm != m {
		return badf(j.opts.Root, "is an %s root (it has %s) but %s is %s: give an %s root (debootstrap --arch, docker export of an %s image, or testdata/sysroot.sh)",
			rm, rel, j.name, m, m, m)
	}
	return badf(j.opts.Root, "has no %s glibc dynamic loader (%v): give an extracted root file system (debootstrap, docker export) or a folder of %s libc files",
		m, err, m)
}

func (j *job) note(format string, a ...any) {
	j.res.Notes = append(j.res.Notes, fmt.Sprintf(format, a...))
}

// env is the clean environment of every run: nothing from the caller
// (no LD_LIBRARY_PATH, LD_PRELOAD, QEMU_*), LD_BIND_NOW=1 so that every
// symbol binds at start-up, not at its first call.
func env() []string {
	return []string{"LD_BIND_NOW=1", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"}
}

// loaderMode starts the program with the root's own dynamic loader, outside
// a chroot, through a view folder of the libraries the root's loader would
// load.
func (j *job) loaderMode() error {
	f := j.facts
	prefix, err := j.loaderEmulator()
	if err != nil {
		return err
	}
	if f.Linkage == abi.LinkageStatic {
		j.note("statically linked: started directly, no glibc from the root was checked (the binary carries its own libc)")
		return j.run(append(append(prefix, j.bin), j.opts.Args...))
	}
	if f.Libc == abi.LibcMusl {
		return badf(j.name, "is a dynamically linked musl binary (interpreter %s): loader mode runs a glibc root's loader; use --mode chroot with a musl root (Alpine)", f.Interpreter)
	}
	ld, err := findLoader(j.root, f.Machine, f.Interpreter)
	if err != nil {
		return j.badRoot(err)
	}
	j.res.Loader = ld.Rel
	// $ORIGIN is the folder the program really is in: the kernel gives
	// the loader the resolved path (/proc/self/exe), while a loader
	// started by hand takes the path it is given, links and all.
	if real, err := filepath.EvalSymlinks(j.bin); err == nil {
		j.bin = real
	}

	// The root's loader cannot search the root's folders in its own order
	// from outside a chroot (search.go says why); relpack searches, and
	// hands the loader exactly the files it found, through a view folder.
	tr, err := searchTree(j.root, j.bin, f, ld)
	if err != nil {
		return err
	}
	j.res.Notes = append(j.res.Notes, tr.notes...)
	view, err := j.makeView(tr)
	if err != nil {
		return err
	}
	base := append(append(prefix, ld.Host, "--inhibit-cache"), "--library-path", view)
	if len(tr.missing) > 0 {
		j.notStartedMissing(base, tr.missing)
		return nil
	}
	if len(tr.libs) > 0 {
		var links []string
		for _, l := range tr.libs {
			links = append(links, l.name+" = "+l.host)
		}
		j.note("the loader takes each library from %s, links to the files the root's own loader would load (the binary's RUNPATH before the root's folders): %s", view, strings.Join(links, ", "))
	}
	if stop, err := j.checkTrace(base, view, tr); stop {
		return err
	}
	return j.run(append(append(base, j.bin), j.opts.Args...))
}

// loaderEmulator returns what starts the root's loader before its own path:
// nothing, or qemu for a binary of another machine (noted).
func (j *job) loaderEmulator() ([]string, error) {
	f := j.facts
	qemu, err := emulator(f.Machine, false, j.name)
	if err != nil {
		return nil, err
	}
	if qemu == "" {
		return nil, nil
	}
	j.note("%s runs under %s (this host is %s); qemu starts the root's loader itself, so no binfmt_misc and no -L prefix are involved", f.Machine, filepath.Base(qemu), hostMachine())
	return []string{qemu}, nil
}

// makeView makes the view folder in the work folder: a link per NEEDED
// name to the file the root's loader would load.
func (j *job) makeView(tr *tree) (string, error) {
	view, err := os.MkdirTemp(j.work, ".relpack-libraries-")
	if err != nil {
		return "", err
	}
	for _, l := range tr.libs {
		if strings.Contains(l.name, "/") {
			continue // opened by path; noted by searchTree
		}
		if err := os.Symlink(l.host, filepath.Join(view, l.name)); err != nil {
			return "", badf(j.name, "cannot link %s into the loader's view: %v", l.name, err)
		}
	}
	return view, nil
}

// notStartedMissing reports libraries found nowhere in the root the way the
// loader would (exit code 127), without starting the program: outside a
// chroot the loader would go on to the host's folders.
func (j *job) notStartedMissing(base []string, missing []missingLib) {
	var parts []string
	for _, m := range missing {
		parts = append(parts, fmt.Sprintf("%s: cannot open shared object file: not in the root (needed by %s; searched %s)", m.name, m.neededBy, strings.Join(m.searched, ", ")))
	}
	j.res.Command = append(append(base, j.bin), j.opts.Args...)
	j.res.ExitCode = 127
	j.res.LoaderError = "error while loading shared libraries: " + strings.Join(parts, "; ")
	j.note("not started: no file in the binary's RUNPATH/RPATH nor in the root's library folders answers to that name, where the root's own loader would look; outside a chroot the loader would go on to this host's folders; exit code 127 is the loader's")
}

// checkTrace runs the loader's trace (--list) before the program. stop is
// true when the program must not be started: the loader would take a
// library from the host (reported as the loader would; err nil), or from
// another file than the view's (err says so).
func (j *job) checkTrace(base []string, view string, tr *tree) (stop bool, err error) {
	// Outside a chroot the loader searches the host's own folders for a
	// library the view lacks. A library found only there would make the
	// run pass (or fail) for the host's sake, not the root's.
	trace := append(append(append([]string{}, base...), "--list"), j.bin)
	out, _, _, _ := execute(j.opts.Context, trace, j.opts.Timeout)
	if leaks := hostLibraries(out, j.root, j.facts.Machine); len(leaks) > 0 {
		j.res.Command = trace
		j.res.ExitCode = 127
		j.res.Stdout = out
		var parts []string
		for _, l := range leaks {
			parts = append(parts, fmt.Sprintf("%s: cannot open shared object file: not in the root (outside a chroot the loader would take the host's %s)", l.name, l.path))
		}
		j.res.LoaderError = strings.Join(parts, "; ")
		j.note("not started: the loader's trace (--list) found libraries only on this host; a chroot run reports the loader's own \"cannot open shared object file\"; exit code 127 is the loader's")
		return true, nil
	}
	// And the loader must have taken every library from the view: a
	// DT_RPATH folder is searched before --library-path, and the loader
	// reads it on this host, not in the root.
	if off := offView(out, view, tr); len(off) > 0 {
		return true, badf(j.name, "loader mode cannot reproduce the root's loader here: outside a chroot it took %s, not the root's file; use --mode chroot", strings.Join(off, ", "))
	}
	return false, nil
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

// chrootMode starts the program inside the root (unshare, mount proc,
// chroot), where the kernel reads PT_INTERP and the root's loader searches
// its own folders.
func (j *job) chrootMode() error {
	f := j.facts
	proc, created, err := ensureDir(j.root, "proc", 0o555)
	if err != nil {
		return err
	}
	if created {
		j.cleanup = append(j.cleanup, func() { os.Remove(proc) })
	}
	var inside []string
	qemu, err := emulator(f.Machine, true, j.name)
	if err != nil {
		return err
	}
	if qemu != "" {
		q := filepath.Join(j.work, filepath.Base(qemu))
		if err := copyFile(qemu, q, 0o755); err != nil {
			return err
		}
		inside = append(inside, chrootPath(j.root, q))
		j.note("%s runs under %s (this host is %s), copied into the root's temporary folder: binfmt_misc need not be registered", f.Machine, filepath.Base(qemu), hostMachine())
	}
	switch {
	case f.Linkage == abi.LinkageStatic:
		j.note("statically linked: started in the chroot, no glibc from the root was checked (the binary carries its own libc)")
	default:
		if _, err := findLoader(j.root, f.Machine, ""); err != nil && f.Libc != abi.LibcMusl {
			return j.badRoot(err)
		}
		if _, err := resolveIn(j.root, f.Interpreter); err == nil {
			j.res.Loader = strings.TrimPrefix(f.Interpreter, "/")
		} else {
			j.note("the root has no %s, the interpreter the binary names: the kernel cannot start it there", f.Interpreter)
		}
	}
	inside = append(inside, chrootPath(j.root, j.bin))
	inside = append(inside, j.opts.Args...)
	// The mount exists only in unshare's private mount namespace: it ends
	// with the process, whatever happens to relpack.
	script := `mount -t proc proc "$1" || exit 125; r=$2; shift 2; exec chroot "$r" "$@"`
	cmd := append([]string{"unshare", "--mount", "--propagation", "private", "sh", "-c", script, "relpack-smoke", proc, j.root}, inside...)
	if err := j.run(cmd); err != nil {
		return err
	}
	// Failures of the harness itself are not the binary's.
	if j.res.OK {
		return nil
	}
	for _, line := range strings.Split(j.res.Stderr, "\n") {
		if strings.HasPrefix(line, "unshare: ") || strings.HasPrefix(line, "mount: ") || strings.HasPrefix(line, "chroot: cannot change root") {
			return badf(j.opts.Root, "chroot mode could not start: %s (inside a container, run privileged or use --mode loader)", strings.TrimSpace(line))
		}
	}
	return nil
}

// run executes cmd and fills the result.
func (j *job) run(cmd []string) error {
	j.res.Command = cmd
	stdout, stderr, code, err := execute(j.opts.Context, cmd, j.opts.Timeout)
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: interrupted: %w", j.name, err)
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: starting %s: %w", j.name, cmd[0], err)
	}
	j.res.Stdout, j.res.Stderr, j.res.ExitCode = stdout, stderr, code
	if errors.Is(err, context.DeadlineExceeded) {
		j.note("killed after %s: the program did not exit (does it take %q?)", j.opts.Timeout, strings.Join(j.opts.Args, " "))
		j.res.ExitCode = -1
		return nil
	}
	j.res.OK = code == 0
	if !j.res.OK {
		j.res.LoaderError = loaderLine(stderr)
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
