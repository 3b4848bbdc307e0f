package ctxio

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestStopsWhenCancelled: Reader and Writer pass bytes through while the
// context lives, and fail with its error at the next call once it is
// cancelled, so a long copy (a build's source copies, a debug split)
// stops within one buffer.
func TestStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	w := Writer(ctx, &out)
	r := Reader(ctx, strings.NewReader("0123456789"))
	buf := make([]byte, 4)
	if n, err := r.Read(buf); n != 4 || err != nil {
		t.Fatalf("Read before cancel = %d, %v", n, err)
	}
	if n, err := w.Write(buf); n != 4 || err != nil || out.String() != "0123" {
		t.Fatalf("Write before cancel = %d, %v (%q)", n, err, out.String())
	}
	cancel()
	if _, err := r.Read(buf); !errors.Is(err, context.Canceled) {
		t.Errorf("Read after cancel: %v, want context.Canceled", err)
	}
	if _, err := w.Write(buf); !errors.Is(err, context.Canceled) {
		t.Errorf("Write after cancel: %v, want context.Canceled", err)
	}
	if _, err := io.Copy(Writer(ctx, io.Discard), strings.NewReader("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("io.Copy through a cancelled Writer: %v, want context.Canceled", err)
	}
	if out.String() != "0123" {
		t.Errorf("a cancelled Writer wrote: %q", out.String())
	}
}
