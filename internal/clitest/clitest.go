// Package clitest builds the relpack command once per test binary and runs
// it, for the packages whose tests check the real CLI (exit codes, stdout,
// stderr) rather than the functions behind it.
package clitest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"relpack/internal/testdeps"
)

var (
	once     sync.Once
	binPath  string
	buildErr error
	buildOut []byte
)

// Bin builds relpack/cmd/relpack (once) and returns the binary's path.
func Bin(t testing.TB) string {
	t.Helper()
	testdeps.Tools(t, "go")
	once.Do(func() {
		dir, err := os.MkdirTemp("", "relpack-cli-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "relpack")
		buildOut, buildErr = exec.Command("go", "build", "-o", binPath, "relpack/cmd/relpack").CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("go build relpack/cmd/relpack: %v\n%s", buildErr, buildOut)
	}
	return binPath
}

// Run runs relpack with args and returns its output and exit code.
func Run(t testing.TB, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(Bin(t), args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// RunWithin runs relpack like Run, and fails the test when it has not
// returned within limit (it is then killed): a hostile input that blocks
// (a FIFO) or never ends (/dev/zero) fails the test instead of hanging it.
func RunWithin(t testing.TB, limit time.Duration, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return run(t, limit, nil, args)
}

// RunMeasured runs relpack like RunWithin and also returns its peak
// resident set size in KiB (its ru_maxrss, as Linux counts it): what a
// hostile input made the real command hold.
//
// GNU time forks relpack and reports the rusage of that child alone.
// The rusage of a child the test starts itself would not do: Go starts
// it with vfork (CLONE_VM), and Linux's exec records the test process's
// own peak RSS as the child's (exec_mmap, setmax_mm_hiwater_rss), so a
// test holding 300 MB would see /bin/true take 300 MB.
func RunMeasured(t testing.TB, limit time.Duration, args ...string) (stdout, stderr string, code int, maxRSS int64) {
	t.Helper()
	report := filepath.Join(t.TempDir(), "maxrss")
	stdout, stderr, code = run(t, limit, []string{testdeps.Tool(t, "time"), "-q", "-f", "%M", "-o", report}, args)
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("relpack %s: GNU time wrote no report: %v", strings.Join(args, " "), err)
	}
	maxRSS, err = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatalf("relpack %s: GNU time reported %q, not a size in KiB", strings.Join(args, " "), b)
	}
	return stdout, stderr, code, maxRSS
}

// run runs relpack with args, through the command prefix (and its
// arguments) when one is given, in a process group of its own that is
// killed whole after limit.
func run(t testing.TB, limit time.Duration, prefix, args []string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	argv := append(append(slices.Clone(prefix), Bin(t)), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("relpack %s did not return within %v (blocked or reading forever; killed)\nstderr: %s", strings.Join(args, " "), limit, e.String())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// Cleanup removes the built binary; call it from TestMain after m.Run.
func Cleanup() {
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
}
