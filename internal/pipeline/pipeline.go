// Package pipeline runs a command's job as an ordered list of named stages.
//
// relpack's commands that write a release (build, merge, repo) each read, at
// their top, as such a list: a reader learns the order of the job from one
// screen, and adding a step is adding a line. Every stage is a function
// over one job value J; the job's fields say which stage adds them, and a
// stage reads only what the stages before it added.
//
// The list is data, so it can also be printed (relpack's docs/architecture.md
// is held to each command's Names by a test).
package pipeline

import (
	"context"
	"time"
)

// Stage is one step of a job: Name says what it does, in the words of
// docs/architecture.md; Run does it, reading and adding to the job.
type Stage[J any] struct {
	Name string
	Run  func(J) error
}

// Run runs stages in order until one fails, and returns that stage's error
// unchanged (a stage's messages name the file and the fix; the stage's
// name would add nothing a user acts on). When ctx is cancelled between
// two stages, Run stops there and returns ctx.Err(). A nil ctx never stops.
func Run[J any](ctx context.Context, job J, stages []Stage[J]) error {
	return RunTimed(ctx, job, stages, nil)
}

// RunTimed is Run, calling took (when not nil) after each stage that ran,
// failed or not, with its name and wall time: where a job's time goes,
// for `relpack build --timings` and the benchmarks.
func RunTimed[J any](ctx context.Context, job J, stages []Stage[J], took func(name string, d time.Duration)) error {
	for _, s := range stages {
		if ctx != nil {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		start := time.Now()
		err := s.Run(job)
		if took != nil {
			took(s.Name, time.Since(start))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Names lists the stages' names, in order.
func Names[J any](stages []Stage[J]) []string {
	names := make([]string, len(stages))
	for i, s := range stages {
		names[i] = s.Name
	}
	return names
}
