package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// interrupt is how the running command answers SIGINT and SIGTERM: it
// stops on the first signal, within a second, leaving what it was writing
// as it was, with exit status 130.
//
// A command is in one of two states. While it writes nothing (reading
// inputs, loading and unlocking the signing key, inspecting, rendering),
// there is nothing to undo, and some of that work cannot look at a
// context (a passphrase's key derivation, a parser): the first signal ends
// relpack at once. While it writes (between writing and reading), the
// first signal cancels the context the command's long loops watch; the
// command removes what it staged, or rolls back, and returns; a second
// signal ends relpack at once.
type interrupt struct {
	ctx    context.Context
	cancel context.CancelFunc
	stderr io.Writer
	sigs   chan os.Signal

	mu      sync.Mutex
	writing string // what keeps what it held ("--out dist"); "" while nothing is written
	got     bool   // a signal came
}

// running is the command's interrupt (one per process; see signals).
var running *interrupt

// signals returns the process's interrupt, catching SIGINT and SIGTERM
// from the first call on, in the state that writes nothing. Root's
// PersistentPreRun calls it before every command, so a signal that comes
// while any command reads ends relpack at once.
func signals(stderr io.Writer) *interrupt {
	if running != nil {
		return running
	}
	ctx, cancel := context.WithCancel(context.Background())
	in := &interrupt{ctx: ctx, cancel: cancel, stderr: stderr, sigs: make(chan os.Signal, 2)}
	signal.Notify(in.sigs, os.Interrupt, syscall.SIGTERM)
	go in.watch()
	running = in
	return in
}

func (in *interrupt) watch() {
	for s := range in.sigs {
		in.mu.Lock()
		// The lock is held through os.Exit: a command switching to
		// writing waits here, so it never starts a write that an
		// exit would cut short.
		switch {
		case in.writing == "":
			fmt.Fprintf(in.stderr, "relpack: %v: stopped; nothing was written\n", s)
			os.Exit(130)
		case in.got:
			fmt.Fprintf(in.stderr, "relpack: %v again: exiting at once; %s may hold a staging folder or temporary files, which the next run into it removes\n", s, in.writing)
			os.Exit(130)
		}
		in.got = true
		fmt.Fprintf(in.stderr, "relpack: %v: stopping; %s keeps what it held (again to exit at once)\n", s, in.writing)
		in.mu.Unlock()
		in.cancel()
	}
}

// Context is cancelled by the first signal that comes while the command
// writes.
func (in *interrupt) Context() context.Context { return in.ctx }

// Writing says the command starts writing into what (a folder, a file,
// named as the user gave it): from now on the first signal cancels the
// context instead of exiting.
func (in *interrupt) Writing(what string) {
	in.mu.Lock()
	in.writing = what
	in.mu.Unlock()
}

// Reading says the command writes nothing any more: a signal exits at once.
func (in *interrupt) Reading() { in.Writing("") }

// Code is the exit status of a command that failed with err: 130 when a
// signal stopped it, else otherwise.
func (in *interrupt) Code(err error, otherwise int) int {
	if in.ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return 130
	}
	return otherwise
}

// interruptible is the interrupt of a command that writes into --out from
// its start (build, merge): the first signal cancels the returned context
// (the command removes its staging folder and leaves --out as it was,
// within a second), a second exits at once. stop goes back to the state
// that writes nothing.
func interruptible(stderr io.Writer) (context.Context, func()) {
	in := signals(stderr)
	in.Writing("--out")
	return in.Context(), in.Reading
}
