//go:build !wasip1

package weir

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// Tests of co_process functions (ABI §4.7), broadcast state (§4.8) and side
// outputs by name.

func TestCoProcessDescribe(t *testing.T) {
	useTestRegistry(t)
	noop := func(*Record, *Context) error { return nil }
	rules := NewBroadcastState("rules")
	seen := NewValueState("seen", 0)
	CoProcess("fraud", noop, noop, State(rules, seen), SideOutputs("clean"), OnTimer(func(*Timer, *Context) error { return nil }))
	Trigger("eager", func(*TriggerEvent, *TriggerResult) error { return nil })
	Evictor("drop", func(_ *Window, _ []*Record, e []int) ([]int, error) { return e, nil })
	want := `{"abi_version":1,"sdk":"go/` + Version + `","functions":[` +
		`{"name":"fraud","kind":"co_process","index":0,"side_outputs":["clean"],"state":[` +
		`{"name":"rules","kind":"broadcast","ttl_ms":0},{"name":"seen","kind":"value","ttl_ms":0}]},` +
		`{"name":"eager","kind":"trigger","index":1,"side_outputs":[],"state":[]},` +
		`{"name":"drop","kind":"evictor","index":2,"side_outputs":[],"state":[]}]}`
	if d := string(describe()); d != want {
		t.Errorf("description\n got %s\nwant %s", d, want)
	}
}

func TestCoProcessRegistrationRejects(t *testing.T) {
	useTestRegistry(t)
	noop := func(*Record, *Context) error { return nil }
	trig := func(*TriggerEvent, *TriggerResult) error { return nil }
	ev := func(_ *Window, _ []*Record, e []int) ([]int, error) { return e, nil }
	for name, f := range map[string]func(){
		"nil first handler":          func() { CoProcess("q", nil, noop) },
		"nil second handler":         func() { CoProcess("q", noop, nil) },
		"broadcast state on process": func() { Process("q", noop, State(NewBroadcastState("b"))) },
		"state on a trigger":         func() { Trigger("q", trig, State(NewValueState("v", 0))) },
		"side output of a trigger":   func() { Trigger("q", trig, SideOutputs("x")) },
		"timers on a trigger":        func() { Trigger("q", trig, OnTimer(func(*Timer, *Context) error { return nil })) },
		"nil trigger":                func() { Trigger("q", nil) },
		"state on an evictor":        func() { Evictor("q", ev, State(NewMapState("m", 0))) },
		"side output of an evictor":  func() { Evictor("q", ev, SideOutputs("x")) },
		"nil evictor":                func() { Evictor("q", nil) },
		"bad broadcast state name":   func() { NewBroadcastState("") },
	} {
		mustPanic(t, name, f)
	}
}

// TestCoProcessKeyedInputs: with both inputs keyed, the two handlers share the
// keyed state of the record's key, and each reaches timers and side outputs.
func TestCoProcessKeyedInputs(t *testing.T) {
	h := useTestRegistry(t)
	fs := useFakeState(t, StateValue)
	ft := useFakeTimers(t)
	total := NewValueState("total", 0)
	add := func(sign int64) ProcessFunc {
		return func(in *Record, ctx *Context) error {
			n, _, err := total.GetInt64(ctx)
			if err != nil {
				return err
			}
			n += sign * int64(len(in.Payload()))
			if err := total.PutInt64(ctx, n); err != nil {
				return err
			}
			if n < 0 {
				o, err := ctx.EmitToSide("negative")
				if err != nil {
					return err
				}
				o.SetPayload(fmt.Appendf(o.Buffer(), "%d", n))
				return nil
			}
			ctx.EmitPayload(fmt.Appendf(nil, "%d", n))
			return ctx.RegisterEventTimer(100)
		}
	}
	CoProcess("co", add(1), add(-1), State(total), SideOutputs("other", "negative"),
		OnTimer(func(tm *Timer, ctx *Context) error {
			n, _, err := total.GetInt64(ctx)
			ctx.EmitPayload(fmt.Appendf(nil, "timer %s %d", tm.Key, n))
			return err
		}))

	if rc := call(t, callProcess, 0, fs.batch("a", "xxx", "b", "x", "a", "y")); rc != rcOK {
		t.Fatalf("process: %d %q", rc, h.errors)
	}
	if rc := call(t, callProcess2, 0, fs.batch("b", "xx", "a", "yy")); rc != rcOK {
		t.Fatalf("process2: %d %q", rc, h.errors)
	}
	fs.keys = []string{"a"}
	if rc := call(t, callTimer, 0, firedTimers(testRecord{Key: "a", Timestamp: 100, Payload: "\x00"})); rc != rcOK {
		t.Fatalf("timer: %d %q", rc, h.errors)
	}
	var got []string
	for _, f := range h.frames {
		for _, o := range decodeOutputFrame(t, f) {
			got = append(got, fmt.Sprintf("%d/%d:%s", o.Parent, o.Tag, o.Payload))
		}
	}
	if want := "[0/0:3 1/0:1 2/0:4 0/2:-1 1/0:2 0/0:timer a 2]"; fmt.Sprint(got) != want {
		t.Fatalf("outputs %v, want %s", got, want)
	}
	if want := "[register 0 0 100 register 0 1 100 register 0 2 100 register 0 1 100]"; fmt.Sprint(ft.calls) != want {
		t.Fatalf("timer imports %v, want %s", ft.calls, want)
	}
}

// refusingTimers answers every timer call INVALID, as the host does in
// process2 of a broadcast second input.
type refusingTimers struct{ fakeTimers }

func (*refusingTimers) register(int32, int32, int64) int32 { return timerInvalid }

// TestCoProcessBroadcast is the rule-matching pattern: process2 keeps rules in
// broadcast state, process reads them in sub-key order.
func TestCoProcessBroadcast(t *testing.T) {
	h := useTestRegistry(t)
	fs := useFakeState(t, StateBroadcast, StateValue)
	rules := NewBroadcastState("rules")
	hits := NewValueState("hits", 0)
	var stateErr, timerErr error
	CoProcess("match", func(in *Record, ctx *Context) error {
		if string(in.Payload()) == "write" {
			stateErr = rules.Put(ctx, []byte("r"), nil)
			return nil
		}
		matched := false
		err := rules.Each(ctx, func(sub, v []byte) bool {
			if strings.Contains(string(in.Payload()), string(v)) {
				ctx.Emit().SetPayload(fmt.Appendf(nil, "%s:%s", sub, in.Payload()))
				matched = true
			}
			return true
		})
		if err != nil {
			return err
		}
		if !matched {
			o, err := ctx.EmitToSide("clean")
			if err != nil {
				return err
			}
			_ = o // the record itself
		}
		return nil
	}, func(in *Record, ctx *Context) error {
		p := in.Payload()
		id, val, _ := strings.Cut(string(p), "=")
		if val == "" {
			return rules.Delete(ctx, []byte(id))
		}
		if id == "keyed" {
			_, _, err := hits.Get(ctx)
			return err
		}
		if id == "timer" {
			timerErr = ctx.RegisterEventTimer(5)
			return nil
		}
		return rules.Put(ctx, []byte(id), []byte(val))
	}, State(rules, hits), SideOutputs("clean"))

	// process2, broadcast: the fake allows writes.
	fs.broadcastWritable = true
	fs.keys = []string{"", "", "", ""} // broadcast records have no key; the fake needs valid indexes
	if rc := call(t, callProcess2, 0, payloads("r2=big", "r1=x", "r3=zzz", "r3")); rc != rcOK {
		t.Fatalf("process2: %d %q", rc, h.errors)
	}
	if len(h.frames) != 0 {
		t.Fatalf("process2 emitted %q", h.frames)
	}
	fs.broadcastWritable = false
	if rc := call(t, callProcess, 0, fs.batch("k1", "a big x", "k2", "none", "k1", "big")); rc != rcOK {
		t.Fatalf("process: %d %q", rc, h.errors)
	}
	outs := decodeOutputFrame(t, h.frames[0])
	var got []string
	for _, o := range outs {
		got = append(got, fmt.Sprintf("%d/%d/%d:%s", o.Parent, o.Tag, o.Flags, o.Payload))
	}
	if want := "[0/0/4:r1:a big x 0/0/4:r2:a big x 1/1/0: 2/0/4:r2:big]"; fmt.Sprint(got) != want {
		t.Fatalf("outputs %v, want %s", got, want)
	}

	// A write from the first input: refused by the SDK, nothing asked of the host.
	h.reset()
	calls := fs.calls
	if rc := call(t, callProcess, 0, fs.batch("k", "write")); rc != rcOK {
		t.Fatalf("process: %d %q", rc, h.errors)
	}
	if !errors.Is(stateErr, ErrStateInvalid) || !strings.Contains(stateErr.Error(), `writing state "rules": broadcast state is writable only while handling the second`) || fs.calls != calls {
		t.Fatalf("write in process: %v (%d host calls)", stateErr, fs.calls-calls)
	}
	// A write the host refuses in process2 (a second input that is not
	// broadcast) fails the call with the host's code, and emits nothing.
	h.reset()
	fs.keys = []string{"k"}
	if rc := call(t, callProcess2, 0, payloads("r9=q")); rc != rcError || len(h.frames) != 0 {
		t.Fatalf("refused put: rc %d, frames %q", rc, h.frames)
	}
	if want := `weir: writing state "rules": the host refused the call as invalid (INVALID)`; h.errors[0] != want {
		t.Fatalf("got %q, want %q", h.errors[0], want)
	}
	h.reset()
	if rc := call(t, callProcess2, 0, payloads("r1")); rc != rcError || !strings.Contains(h.errors[0], `deleting from state "rules": the host refused`) {
		t.Fatalf("refused delete: rc %d, errors %q", rc, h.errors)
	}
	// Keyed state in process2 of a broadcast input: the host says INVALID.
	fs.kinds[1] = StateList // the fake's way to refuse a value read
	h.reset()
	if rc := call(t, callProcess2, 0, payloads("keyed=1")); rc != rcError || !strings.Contains(h.errors[0], `reading state "hits": the host refused the call as invalid`) {
		t.Fatalf("keyed state in process2: rc %d, errors %q", rc, h.errors)
	}
	// Timers the host refuses surface as ErrTimers.
	testTimers = &refusingTimers{}
	t.Cleanup(func() { testTimers = nil })
	if rc := call(t, callProcess2, 0, payloads("timer=1")); rc != rcOK || !errors.Is(timerErr, ErrNoOnTimer) {
		t.Fatalf("timer without OnTimer: rc %d, %v", rc, timerErr)
	}
	// The empty sub-key is refused before the host sees it.
	h.reset()
	fs.broadcastWritable = true
	calls = fs.calls
	if err := rules.Delete(&ctx, nil); !errors.Is(err, ErrStateInvalid) || fs.calls != calls {
		t.Fatalf("empty sub-key: %v", err)
	}
}

func TestCoProcessTimersRefusedInProcess2(t *testing.T) {
	h := useTestRegistry(t)
	testTimers = &refusingTimers{}
	t.Cleanup(func() { testTimers = nil })
	var got error
	noop := func(*Record, *Context) error { return nil }
	CoProcess("co", noop, func(_ *Record, ctx *Context) error {
		got = ctx.RegisterEventTimer(1)
		return nil
	}, OnTimer(func(*Timer, *Context) error { return nil }))
	if rc := call(t, callProcess2, 0, payloads("x")); rc != rcOK || !errors.Is(got, ErrTimers) {
		t.Fatalf("rc %d, err %v, errors %q", rc, got, h.errors)
	}
}

func TestEmitToSide(t *testing.T) {
	h := useTestRegistry(t)
	FlatMap("fm", func(in *Record, c *Collector) error {
		o, err := c.EmitToSide(string(in.Payload()))
		if err != nil {
			return err
		}
		o.SetPayload([]byte("to " + string(in.Payload())))
		return nil
	}, SideOutputs("a", "b"))
	WindowProcess("w", func(_ *Window, _ []*Record, c *Collector) error {
		o, err := c.EmitToSide("late")
		if err != nil {
			return err
		}
		o.SetPayload([]byte("w"))
		return nil
	}, SideOutputs("late"))
	if rc := call(t, callProcess, 0, payloads("b", "a")); rc != rcOK {
		t.Fatalf("rc %d %q", rc, h.errors)
	}
	outs := decodeOutputFrame(t, h.frames[0])
	if len(outs) != 2 || outs[0].Tag != 2 || outs[0].Payload != "to b" || outs[1].Tag != 1 || outs[1].Payload != "to a" {
		t.Fatalf("outputs %+v", outs)
	}
	if rc := call(t, callWindow, 1, newWindowFrame(1).window(0, 1, nil).b); rc != rcOK {
		t.Fatalf("window: rc %d %q", rc, h.errors)
	}
	if outs := decodeOutputFrame(t, h.frames[1]); len(outs) != 1 || outs[0].Tag != 1 {
		t.Fatalf("window outputs %+v", outs)
	}
	h.reset()
	if rc := call(t, callProcess, 0, payloads("a", "nope")); rc != rcError || len(h.frames) != 0 {
		t.Fatalf("undeclared: rc %d frames %q", rc, h.frames)
	}
	if want := `weir: the function declares no side output "nope" (declare it with weir.SideOutputs)`; h.errors[0] != want {
		t.Fatalf("got %q, want %q", h.errors[0], want)
	}
	var c Collector
	if _, err := c.EmitToSide("a"); !errors.Is(err, ErrNoSideOutput) {
		t.Fatalf("zero collector: %v", err)
	}
}

func TestEmitToSideAllocatesNothing(t *testing.T) {
	useTestRegistry(t)
	Process("p", func(in *Record, ctx *Context) error {
		o, err := ctx.EmitToSide("b")
		if err == nil {
			o.SetPayload(in.Payload())
		}
		return err
	}, SideOutputs("a", "b"))
	in := payloads("x", "y")
	testEmit = func([]byte) {} // the capturing host allocates; this one does not
	call(t, callProcess, 0, in)
	if n := testing.AllocsPerRun(100, func() { call(t, callProcess, 0, in) }); n != 0 {
		t.Fatalf("%.1f allocations per call", n)
	}
}
