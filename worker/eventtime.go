package worker

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/weir-streams/weir/internal/record"
	"github.com/weir-streams/weir/internal/spec"
	"github.com/weir-streams/weir/worker/internal/timestamp"
	"github.com/weir-streams/weir/worker/internal/watermark"
	"github.com/weir-streams/weir/worker/internal/window"
)

// A task's part in event time (DESIGN §5). A source task whose step has a
// timestamps rule assigns each record its timestamp (the first operator of its
// chain) and generates the watermark from what its readers hand over; an input
// task follows the watermarks of its input channels. Either way, when the
// task's event-time clock advances, its event-time windows fire first, then the
// watermark goes to every downstream subtask, behind the results.

// watermarkInterval is how often a source task looks at its watermark (Flink's
// auto-watermark interval).
const watermarkInterval = 200 * time.Millisecond

// windowStep is a window operator in the task's chain.
type windowStep struct {
	op *window.Operator
	// at is its index in task.ops: its results go on through the ops after it.
	at int
	// lateTag names the side output its late records go to; "" drops them.
	lateTag string
	// processing says the window follows processing time, not the watermark.
	processing bool
}

// Process implements operator: the results of windows that late records within
// the allowed lateness changed. Late records go to the side output.
func (w *windowStep) Process(ctx context.Context, b *record.Batch) (*record.Batch, error) {
	return w.op.Process(ctx, b)
}

// Close implements operator.
func (w *windowStep) Close(context.Context, bool) error { return nil }

// newWindowStep builds the window operator of step s.
func (t *task) newWindowStep(s spec.Step, keyed bool) (*windowStep, error) {
	win := s.Window
	if win == nil || s.Aggregate == nil || s.Aggregate.Builtin == "" {
		return nil, fmt.Errorf("step %q: only windows with a built-in aggregate run yet", s.ID)
	}
	agg, err := window.Builtin(s.Aggregate.Builtin, s.Aggregate.Field)
	if err != nil {
		return nil, fmt.Errorf("step %q: %w", s.ID, err)
	}
	cfg := window.Config{
		Operator: s.ID, Keyed: keyed, Aggregate: agg, MaxParallelism: t.desc.MaxParallelism,
		AllowedLateness: win.AllowedLateness.Milliseconds(), LateOutput: win.LateOutput != "",
		ProcessingTime: win.Time == spec.ProcessingTime,
	}
	switch {
	case win.Tumbling > 0:
		cfg.Kind, cfg.Size = window.Tumbling, win.Tumbling.Milliseconds()
	case win.Sliding != nil:
		cfg.Kind, cfg.Size, cfg.Slide = window.Sliding, win.Sliding.Size.Milliseconds(), win.Sliding.Slide.Milliseconds()
	case win.Session != nil:
		cfg.Kind, cfg.Gap = window.Session, win.Session.Gap.Milliseconds()
	default:
		return nil, fmt.Errorf("step %q: the window has no kind", s.ID)
	}
	op, err := window.New(cfg, t.cp.backend)
	if err != nil {
		return nil, fmt.Errorf("step %q: %w", s.ID, err)
	}
	return &windowStep{op: op, at: len(t.ops), lateTag: win.LateOutput, processing: cfg.ProcessingTime}, nil
}

// newAssigner builds the timestamp assigner of a source step's timestamps rule.
func newAssigner(ts *spec.Timestamps) (*timestamp.Operator, watermark.Strategy, error) {
	st := watermark.Strategy{MaxOutOfOrderness: ts.MaxOutOfOrderness, IdleTimeout: ts.IdleTimeout}
	switch {
	case ts.JSONField != "":
		return timestamp.NewJSONField(ts.JSONField), st, nil
	case ts.Ingestion:
		return timestamp.NewIngestion(time.Now), st, nil
	}
	return nil, st, fmt.Errorf("timestamps: no rule this worker runs")
}

// setWatermark records the task's event-time status for its metrics.
func (t *task) setWatermark(st watermark.Status) {
	t.wmValue.Store(st.Watermark)
	t.wmIdle.Store(st.Idle)
	t.hasWatermark.Store(true)
}

// advanceEventTime moves the task's event-time clock: its event-time windows fire
// at the new watermark, then the status goes downstream behind their results.
func (t *task) advanceEventTime(st watermark.Status) error {
	if !st.Idle {
		for _, w := range t.windows {
			if w.processing || w.op.Clock() >= st.Watermark {
				continue
			}
			out, err := w.op.Advance(t.ctx, st.Watermark)
			if err != nil {
				return err
			}
			if out.Len() > 0 {
				if err := t.pushFrom(w.at+1, out); err != nil {
					return err
				}
			}
		}
		if err := t.cp.commitState(); err != nil {
			return err
		}
	}
	t.setWatermark(st)
	for _, w := range t.writers {
		if err := w.Watermark(t.ctx, st.Watermark, st.Idle); err != nil {
			return err
		}
	}
	return nil
}

// fireProcessingTime fires the processing-time windows whose time has come.
func (t *task) fireProcessingTime(now time.Time) error {
	ms := now.UnixMilli()
	fired := false
	for _, w := range t.windows {
		if !w.processing {
			continue
		}
		if next, ok := w.op.NextTimer(); !ok || next > ms {
			continue
		}
		out, err := w.op.Advance(t.ctx, ms)
		if err != nil {
			return err
		}
		fired = true
		if out.Len() > 0 {
			if err := t.pushFrom(w.at+1, out); err != nil {
				return err
			}
		}
	}
	if fired {
		return t.cp.commitState()
	}
	return nil
}

// flushWindows writes the windows' caches to the state backend, before a
// snapshot.
func (t *task) flushWindows() error {
	for _, w := range t.windows {
		if err := w.op.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// writeLate hands a window's late records to the side output that reads them.
func (t *task) writeLate(w *windowStep) error {
	late := w.op.Late()
	if late.Len() == 0 {
		return nil
	}
	for _, wr := range t.sideWriters[w.lateTag] {
		if err := wr.Write(t.ctx, late); err != nil {
			return err
		}
	}
	return nil
}

// maxWatermark is the watermark that ends event time.
const maxWatermark = math.MaxInt64
