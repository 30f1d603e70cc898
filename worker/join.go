package worker

import (
	"context"
	"fmt"

	"github.com/weir-streams/weir/internal/record"
	"github.com/weir-streams/weir/internal/spec"
	"github.com/weir-streams/weir/worker/internal/join"
	"github.com/weir-streams/weir/worker/internal/timer"
)

// joinStep is a join step, first in its chain: input 0 is the left side, input
// 1 the right; pairs (and outer rows) come out as the records arrive and as the
// watermark passes their bounds.
type joinStep struct {
	op *join.Operator
	at int
}

// newJoinStep builds the join operator of step s.
func (t *task) newJoinStep(s spec.Step) (*joinStep, error) {
	jn := s.Join
	if jn == nil {
		return nil, fmt.Errorf("step %q: a join step without its join", s.ID)
	}
	var (
		op  *join.Operator
		err error
	)
	switch jn.Type {
	case spec.IntervalJoin:
		cfg := join.IntervalConfig{
			Operator: s.ID, MaxParallelism: t.desc.MaxParallelism,
			Lower: jn.LowerBound.Milliseconds(), Upper: jn.UpperBound.Milliseconds(),
		}
		switch jn.Outer {
		case spec.OuterLeft:
			cfg.Kind = join.LeftOuter
		case spec.OuterRight:
			cfg.Kind = join.RightOuter
		case spec.OuterFull:
			cfg.Kind = join.FullOuter
		}
		op, err = join.NewInterval(cfg, t.cp.backend)
	case spec.WindowJoin:
		w := jn.Window
		if w == nil {
			return nil, fmt.Errorf("step %q: a window join without its window", s.ID)
		}
		cfg := join.WindowConfig{Operator: s.ID, MaxParallelism: t.desc.MaxParallelism}
		switch {
		case w.Tumbling > 0:
			cfg.Kind, cfg.Size = join.Tumbling, w.Tumbling.Milliseconds()
		case w.Sliding != nil:
			cfg.Kind, cfg.Size, cfg.Slide = join.Sliding, w.Sliding.Size.Milliseconds(), w.Sliding.Slide.Milliseconds()
		case w.Session != nil:
			cfg.Kind, cfg.Gap = join.Session, w.Session.Gap.Milliseconds()
		}
		op, err = join.NewWindow(cfg, t.cp.backend)
	default:
		return nil, fmt.Errorf("step %q: unknown join type %q", s.ID, jn.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("step %q: %w", s.ID, err)
	}
	return &joinStep{op: op, at: len(t.ops)}, nil
}

// Process implements operator: a chain's first step gets input 0 this way.
func (j *joinStep) Process(ctx context.Context, b *record.Batch) (*record.Batch, error) {
	return j.op.Process(ctx, 0, b)
}

// ProcessInput implements multiInput.
func (j *joinStep) ProcessInput(ctx context.Context, k int, b *record.Batch) (*record.Batch, error) {
	return j.op.Process(ctx, k, b)
}

// Close implements operator.
func (j *joinStep) Close(context.Context, bool) error { return nil }

func (j *joinStep) position() int { return j.at }

// advance implements timed: the watermark emits outer rows, fires window
// joins and removes what can match nothing any more.
func (j *joinStep) advance(ctx context.Context, domain timer.Domain, at int64, emit func(*record.Batch) error) error {
	if domain != timer.EventTime || at <= j.op.Watermark() {
		return nil
	}
	out, err := j.op.Advance(ctx, at)
	if err != nil || out.Len() == 0 {
		return err
	}
	return emit(out)
}
