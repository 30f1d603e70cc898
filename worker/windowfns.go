package worker

import (
	"context"

	"github.com/weir-streams/weir/internal/spec"
	"github.com/weir-streams/weir/wasmhost"
	"github.com/weir-streams/weir/worker/internal/window"
)

// wasmTrigger runs a trigger function (sdk/ABI.md §4.9) for a window operator.
type wasmTrigger struct {
	inst *wasmhost.Instance
	f    *wasmhost.TriggerFrame
	out  []window.TriggerResult
}

// Trigger implements window.TriggerCaller: one call for all the events.
func (w *wasmTrigger) Trigger(ctx context.Context, events []window.TriggerEvent) ([]window.TriggerResult, error) {
	w.f.Reset()
	for i := range events {
		e := &events[i]
		w.f.AddEvent(wasmhost.TriggerEvent(e.Kind), e.Start, e.End, e.Time, e.Count, e.Key, e.Keyed)
	}
	acts, err := w.inst.Trigger(ctx, w.f)
	if err != nil {
		return nil, err
	}
	w.out = w.out[:0]
	for _, a := range acts {
		r := window.TriggerResult{Action: window.TriggerAction(a.Result)}
		if a.EventTimer != wasmhost.NoTimer {
			r.EventTimer, r.HasEventTimer = a.EventTimer, true
		}
		if a.ProcessingTimer != wasmhost.NoTimer {
			r.ProcTimer, r.HasProcTimer = a.ProcessingTimer, true
		}
		w.out = append(w.out, r)
	}
	return w.out, nil
}

// wasmEvictor runs an evictor function (sdk/ABI.md §4.10) for a window operator.
type wasmEvictor struct {
	inst *wasmhost.Instance
	f    *wasmhost.EvictFrame
}

// Evict implements window.EvictorCaller: one call for all the windows.
func (w *wasmEvictor) Evict(ctx context.Context, windows []window.EvictWindow) ([][]uint32, error) {
	w.f.Reset()
	for i := range windows {
		win := &windows[i]
		w.f.AddWindow(win.Start, win.End, win.Key, win.Keyed)
		w.f.AddElementsEncoded(win.N, win.Elements)
	}
	return w.inst.Evict(ctx, w.f)
}

// windowShape sets the window kind and firing policy of cfg from the spec.
func windowShape(win *spec.Window, cfg *window.Config) bool {
	switch {
	case win.Tumbling > 0:
		cfg.Kind, cfg.Size = window.Tumbling, win.Tumbling.Milliseconds()
	case win.Sliding != nil:
		cfg.Kind, cfg.Size, cfg.Slide = window.Sliding, win.Sliding.Size.Milliseconds(), win.Sliding.Slide.Milliseconds()
	case win.Session != nil:
		cfg.Kind, cfg.Gap = window.Session, win.Session.Gap.Milliseconds()
	case win.Count != nil && win.Count.Slide == 0:
		cfg.Kind, cfg.Size = window.TumblingCount, win.Count.Size
	case win.Count != nil:
		cfg.Kind, cfg.Size, cfg.Slide = window.SlidingCount, win.Count.Size, win.Count.Slide
	case win.Global:
		cfg.Kind = window.Global
	default:
		return false
	}
	if t := win.Trigger; t != nil {
		tr := &window.Trigger{Purging: t.Purging}
		switch t.Kind {
		case spec.TriggerEventTime:
			tr.Kind = window.EventTimeTrigger
		case spec.TriggerProcessingTime:
			tr.Kind = window.ProcessingTimeTrigger
		case spec.TriggerCount:
			tr.Kind, tr.N = window.CountTrigger, uint64(t.Count)
		case spec.TriggerContinuousEventTime:
			tr.Kind, tr.Interval = window.ContinuousEventTimeTrigger, t.Interval.Milliseconds()
		case spec.TriggerContinuousProcessingTime:
			tr.Kind, tr.Interval = window.ContinuousProcessingTimeTrigger, t.Interval.Milliseconds()
		case spec.TriggerUDF:
			tr.Kind = window.CustomTrigger
		}
		cfg.Trigger = tr
	}
	if e := win.Evictor; e != nil {
		switch {
		case e.UDF != nil:
			cfg.Evictor = &window.Evictor{Kind: window.CustomEvictor}
		case e.Count > 0:
			cfg.Evictor = &window.Evictor{Kind: window.CountEvictor, N: uint64(e.Count)}
		default:
			cfg.Evictor = &window.Evictor{Kind: window.TimeEvictor, Size: e.Time.Milliseconds()}
		}
	}
	return true
}
