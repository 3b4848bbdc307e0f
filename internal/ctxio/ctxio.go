// Package ctxio makes long copies stop when their context is cancelled
// (Ctrl-C during a build's source copies or a merge's artifact copies).
package ctxio

import (
	"context"
	"io"
)

// Reader returns r that fails with ctx's error, at the next Read, once ctx
// is done.
func Reader(ctx context.Context, r io.Reader) io.Reader { return &reader{ctx, r} }

type reader struct {
	ctx context.Context
	r   io.Reader
}

func (c *reader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Writer returns w that fails with ctx's error, at the next Write, once
// ctx is done: a long write (a debug file split from a large binary)
// stops within one buffer of a Ctrl-C.
func Writer(ctx context.Context, w io.Writer) io.Writer { return &writer{ctx, w} }

type writer struct {
	ctx context.Context
	w   io.Writer
}

func (c *writer) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
