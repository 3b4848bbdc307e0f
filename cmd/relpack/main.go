// Command relpack builds and verifies the release artifacts of a Linux server
// binary. The commands are thin: they parse flags, call pkg/, and render.
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	err := newRootCmd().Execute()
	if err == nil {
		return
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(os.Stderr, "relpack:", ee.msg)
		}
		os.Exit(ee.code)
	}
	fmt.Fprintln(os.Stderr, "relpack:", err)
	os.Exit(2)
}

// exitError carries an exit code through cobra: 1 means "checked, and the
// answer is no"; 2 means the input could not be checked at all.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }
