package version

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The ordering tests ask dpkg and rpm themselves: the point is what apt and
// dnf will do, not what a reimplementation of their rules says. A missing
// tool is a failure, never a skip, so a CI image without them cannot pass.

// safeVersion guards the strings that get pasted into a dpkg argument or an
// rpm Lua expression.
var safeVersion = regexp.MustCompile(`^[0-9A-Za-z.+~_:-]+$`)

// dpkgCmp compares two Debian versions with dpkg --compare-versions and
// returns -1, 0 or 1. dpkg only warns about a malformed version and then
// compares anyway, so any output on stderr fails the test.
func dpkgCmp(t *testing.T, a, b string) int {
	t.Helper()
	holds := func(op string) bool {
		cmd := exec.Command("dpkg", "--compare-versions", a, op, b)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		if stderr.Len() > 0 {
			t.Fatalf("dpkg --compare-versions %s %s %s: %s", a, op, b, strings.TrimSpace(stderr.String()))
		}
		var exit *exec.ExitError
		switch {
		case err == nil:
			return true
		case errors.As(err, &exit) && exit.ExitCode() == 1:
			return false
		}
		t.Fatalf("dpkg --compare-versions %s %s %s: %v", a, op, b, err)
		return false
	}
	switch {
	case holds("lt"):
		return -1
	case holds("eq"):
		return 0
	}
	return 1
}

// rpmCmp compares version-release pairs with rpm's own rpm.vercmp (rpmvercmp
// on each of epoch, version and release), all pairs in one rpm run.
func rpmCmp(t *testing.T, pairs [][2]string) []int {
	t.Helper()
	var lua strings.Builder
	for _, p := range pairs {
		for _, s := range p {
			if !safeVersion.MatchString(s) {
				t.Fatalf("refusing to pass %q to rpm's Lua", s)
			}
		}
		// print inside %{lua:} adds no newline of its own.
		fmt.Fprintf(&lua, "print(rpm.vercmp(%q, %q) .. '\\n') ", p[0], p[1])
	}
	cmd := exec.Command("rpm", "--eval", "%{lua: "+lua.String()+"}")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("rpm --eval rpm.vercmp: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	lines := strings.Fields(string(out))
	if len(lines) != len(pairs) {
		t.Fatalf("rpm --eval printed %d results for %d pairs: %q", len(lines), len(pairs), out)
	}
	res := make([]int, len(lines))
	for i, l := range lines {
		n, err := strconv.Atoi(l)
		if err != nil || n < -1 || n > 1 {
			t.Fatalf("rpm.vercmp(%q, %q) printed %q", pairs[i][0], pairs[i][1], l)
		}
		res[i] = n
	}
	return res
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// word names a comparison result in failure messages.
func word(c int) string {
	return map[int]string{-1: "<", 0: "=", 1: ">"}[c]
}
