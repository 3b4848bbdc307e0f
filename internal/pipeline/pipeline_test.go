package pipeline

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

type job struct{ ran []string }

func step(name string, err error) Stage[*job] {
	return Stage[*job]{name, func(j *job) error { j.ran = append(j.ran, name); return err }}
}

func TestRunStopsAtTheFirstError(t *testing.T) {
	boom := errors.New("boom")
	j := &job{}
	err := Run(context.Background(), j, []Stage[*job]{step("a", nil), step("b", boom), step("c", nil)})
	if err != boom || !slices.Equal(j.ran, []string{"a", "b"}) {
		t.Fatalf("err %v, ran %v", err, j.ran)
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	j := &job{}
	stages := []Stage[*job]{step("a", nil), {"cancel", func(j *job) error { cancel(); return nil }}, step("c", nil)}
	if err := Run(ctx, j, stages); !errors.Is(err, context.Canceled) || !slices.Equal(j.ran, []string{"a"}) {
		t.Fatalf("err %v, ran %v", err, j.ran)
	}
	if got := Names(stages); !slices.Equal(got, []string{"a", "cancel", "c"}) {
		t.Fatalf("Names: %v", got)
	}
}

func TestRunWithoutContext(t *testing.T) {
	j := &job{}
	if err := Run(nil, j, []Stage[*job]{step("a", nil), step("b", nil)}); err != nil || len(j.ran) != 2 {
		t.Fatalf("err %v, ran %v", err, j.ran)
	}
}

func TestRunTimedReportsEveryStageThatRan(t *testing.T) {
	boom := errors.New("boom")
	var timed []string
	err := RunTimed(context.Background(), &job{}, []Stage[*job]{step("a", nil), step("b", boom), step("c", nil)},
		func(name string, d time.Duration) {
			if d < 0 {
				t.Errorf("%s took %v", name, d)
			}
			timed = append(timed, name)
		})
	if err != boom || !slices.Equal(timed, []string{"a", "b"}) {
		t.Fatalf("err %v, timed %v", err, timed)
	}
}
