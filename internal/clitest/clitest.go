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
	stdout, stderr, code, _ = run(t, limit, args)
	return stdout, stderr, code
}

// RunMeasured runs relpack like RunWithin and also returns its peak
// resident set size in KiB (getrusage's ru_maxrss, as Linux counts it):
// what a hostile input made the real command hold, not what a test's
// own call of a reader allocated.
func RunMeasured(t testing.TB, limit time.Duration, args ...string) (stdout, stderr string, code int, maxRSS int64) {
	t.Helper()
	stdout, stderr, code, st := run(t, limit, args)
	ru, ok := st.SysUsage().(*syscall.Rusage)
	if !ok {
		t.Fatalf("relpack %s: no resource usage on this system (%T)", strings.Join(args, " "), st.SysUsage())
	}
	return stdout, stderr, code, ru.Maxrss
}

// run runs relpack with args, killing it after limit, and returns its
// output, exit code and process state.
func run(t testing.TB, limit time.Duration, args []string) (stdout, stderr string, code int, st *os.ProcessState) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, Bin(t), args...)
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
	return o.String(), e.String(), code, cmd.ProcessState
}

// Cleanup removes the built binary; call it from TestMain after m.Run.
func Cleanup() {
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
}
