//go:build !wasip1

package weir

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestProcessDescribe(t *testing.T) {
	useTestRegistry(t)
	n := NewValueState("n", 0)
	seen := NewMapState("seen", 90*time.Minute)
	tiny := NewListState("tiny", time.Microsecond) // rounds up to 1 ms, not down to "never"
	Process("count", func(*Record, *Context) error { return nil }, State(n, seen), State(tiny), SideOutputs("late"))
	Reduce("sum", func(acc, _ []byte) ([]byte, error) { return acc, nil })
	want := `{"abi_version":1,"sdk":"go/` + Version + `","functions":[` +
		`{"name":"count","kind":"process","index":0,"side_outputs":["late"],"state":[` +
		`{"name":"n","kind":"value","ttl_ms":0},{"name":"seen","kind":"map","ttl_ms":5400000},{"name":"tiny","kind":"list","ttl_ms":1}]},` +
		`{"name":"sum","kind":"reduce","index":1,"side_outputs":[],"state":[{"name":"reduce","kind":"reducing","ttl_ms":0}]}]}`
	if d := string(describe()); d != want {
		t.Errorf("description\n got %s\nwant %s", d, want)
	}
}

func TestProcessRegistrationRejects(t *testing.T) {
	useTestRegistry(t)
	noop := func(*Record, *Context) error { return nil }
	taken := NewValueState("taken", 0)
	Process("p", noop, State(taken))
	dup := NewValueState("dup", 0)
	for name, f := range map[string]func(){
		"nil function":          func() { Process("q", nil) },
		"handle of another":     func() { Process("q", noop, State(taken)) },
		"state name twice":      func() { Process("q", noop, State(dup, NewListState("dup", 0))) },
		"state on a map":        func() { Map("q", func(*Record, *Output) error { return nil }, State(NewValueState("v", 0))) },
		"state on a reduce":     func() { Reduce("q", func(a, _ []byte) ([]byte, error) { return a, nil }, State(NewValueState("v", 0))) },
		"side output of reduce": func() { Reduce("q", func(a, _ []byte) ([]byte, error) { return a, nil }, SideOutputs("x")) },
		"nil reduce":            func() { Reduce("q", nil) },
		"bad state name":        func() { NewValueState("a b", 0) },
		"negative TTL":          func() { NewValueState("v", -time.Second) },
	} {
		mustPanic(t, name, f)
	}
	// A refused registration binds nothing: dup is still free.
	Process("q", noop, State(dup))
}

// TestProcessKeyedCount is the running count of udf-examples: several records of
// one key in one batch see each other's writes, and the next batch continues.
func TestProcessKeyedCount(t *testing.T) {
	h := useTestRegistry(t)
	st := useFakeState(t, StateValue)
	count := NewValueState("count", 0)
	Process("count", func(in *Record, ctx *Context) error {
		n, _, err := count.GetInt64(ctx)
		if err != nil {
			return err
		}
		n++
		if err := count.PutInt64(ctx, n); err != nil {
			return err
		}
		switch string(in.Payload()) {
		case "quiet": // no output at all
			return nil
		case "twice": // two outputs, one on the side output
			ctx.EmitTo(1).SetPayload([]byte("side"))
		}
		ctx.EmitPayload(strconv.AppendInt(nil, n, 10))
		return nil
	}, State(count), SideOutputs("extra"))

	if rc := call(t, callProcess, 0, st.batch("a", "x", "b", "x", "a", "twice", "a", "quiet", "a", "x")); rc != rcOK {
		t.Fatalf("rc %d, errors %q", rc, h.errors)
	}
	want := []testOutput{
		{0, 0, testRecord{Flags: flagPayload, Payload: "1"}},
		{1, 0, testRecord{Flags: flagPayload, Payload: "1"}},
		{2, 1, testRecord{Flags: flagPayload, Payload: "side"}},
		{2, 0, testRecord{Flags: flagPayload, Payload: "2"}},
		{4, 0, testRecord{Flags: flagPayload, Payload: "4"}},
	}
	if got := decodeOutputFrame(t, h.frames[0]); !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %+v\nwant %+v", got, want)
	}
	h.reset()
	if rc := call(t, callProcess, 0, st.batch("b", "x", "a", "x")); rc != rcOK {
		t.Fatalf("rc %d, errors %q", rc, h.errors)
	}
	want = []testOutput{{0, 0, testRecord{Flags: flagPayload, Payload: "2"}}, {1, 0, testRecord{Flags: flagPayload, Payload: "5"}}}
	if got := decodeOutputFrame(t, h.frames[0]); !reflect.DeepEqual(got, want) {
		t.Errorf("second batch:\n got %+v\nwant %+v", got, want)
	}
	if got := st.vals[[3]string{"0", "a", ""}]; string(got) != int64Value(5) {
		t.Errorf("stored %x, want 5 as 8 bytes little endian", got)
	}
}

func TestValueStateBigValueRetries(t *testing.T) {
	h := useTestRegistry(t)
	st := useFakeState(t, StateValue)
	v := NewValueState("v", 0)
	big := strings.Repeat("b", 1000)
	var got []string
	Process("p", func(in *Record, ctx *Context) error {
		old, ok, err := v.Get(ctx)
		if err != nil {
			return err
		}
		got = append(got, strconv.FormatBool(ok)+":"+strconv.Itoa(len(old)))
		return v.Put(ctx, []byte(big+string(in.Payload())))
	}, State(v))
	if rc := call(t, callProcess, 0, st.batch("k", "1", "k", "22")); rc != rcOK {
		t.Fatalf("rc %d, errors %q", rc, h.errors)
	}
	// get (absent), put, get (too small: 1001 > 64), get again, put.
	if want := []string{"false:0", "true:1001"}; !reflect.DeepEqual(got, want) || st.calls != 5 {
		t.Errorf("got %q in %d calls, want %q in 5", got, st.calls, want)
	}
	// The stored value is now 1002 bytes: one more retry grows the buffer, and
	// then it is kept.
	call(t, callProcess, 0, st.batch("k", "22"))
	st.calls = 0
	if rc := call(t, callProcess, 0, st.batch("k", "22")); rc != rcOK || st.calls != 2 {
		t.Errorf("rc %d, %d calls: the grown buffer should be kept", rc, st.calls)
	}
}

func TestListAndMapState(t *testing.T) {
	h := useTestRegistry(t)
	st := useFakeState(t, StateList, StateMap)
	list := NewListState("l", 0)
	m := NewMapState("m", 0)
	big := strings.Repeat("x", 200) // past the first buffer size, so iteration retries
	var seen []string
	Process("p", func(in *Record, ctx *Context) error {
		seen = seen[:0]
		var err error
		switch cmd := string(in.Payload()); cmd {
		case "fill":
			for _, v := range []string{"one", big, ""} {
				if err = list.Append(ctx, []byte(v)); err != nil {
					return err
				}
			}
			for _, kv := range [][2]string{{"b", "2"}, {"a", big}, {"c", "3"}, {"", "empty"}} {
				if err = m.Put(ctx, []byte(kv[0]), []byte(kv[1])); err != nil {
					return err
				}
			}
		case "read":
			err = list.Each(ctx, func(v []byte) bool { seen = append(seen, "l="+trim(v)); return true })
			if err == nil {
				err = m.Each(ctx, func(sub, v []byte) bool { seen = append(seen, string(sub)+"="+trim(v)); return true })
			}
			if k, _ := in.Key(); string(k) != "k" {
				break
			}
			if v, ok, err := m.Get(ctx, []byte("c")); err != nil || !ok || string(v) != "3" {
				t.Errorf("get c: %q %v %v", v, ok, err)
			}
			if _, ok, err := m.Get(ctx, []byte("zz")); err != nil || ok {
				t.Errorf("get zz: %v %v", ok, err)
			}
		case "stop": // the callback ends the iteration early
			err = m.Each(ctx, func(sub, _ []byte) bool { seen = append(seen, string(sub)); return false })
		case "delete":
			err = m.Delete(ctx, []byte("b"))
			if e := m.Delete(ctx, nil); !errors.Is(e, ErrStateInvalid) || !strings.Contains(e.Error(), "use Clear") {
				t.Errorf("deleting the empty sub-key: %v", e)
			}
			if err == nil {
				err = m.Each(ctx, func(sub, _ []byte) bool { seen = append(seen, string(sub)); return true })
			}
		case "clear":
			if err = list.Clear(ctx); err == nil {
				err = m.Clear(ctx)
			}
			if err == nil {
				err = list.Each(ctx, func([]byte) bool { seen = append(seen, "l"); return true })
			}
			if err == nil {
				err = m.Each(ctx, func([]byte, []byte) bool { seen = append(seen, "m"); return true })
			}
		}
		ctx.EmitPayload([]byte(strings.Join(seen, ",")))
		return err
	}, State(list, m))

	if rc := call(t, callProcess, 0, st.batch("k", "fill", "k", "read", "k", "stop", "k", "delete", "other", "read", "k", "clear")); rc != rcOK {
		t.Fatalf("rc %d, errors %q", rc, h.errors)
	}
	var got []string
	for _, o := range decodeOutputFrame(t, h.frames[0]) {
		got = append(got, o.Payload)
	}
	want := []string{"", "l=one,l=x*200,l=,=empty,a=x*200,b=2,c=3", "", ",a,c", "", ""}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
}

// trim shortens a long run of x for the test's expectations.
func trim(v []byte) string {
	if len(v) > 10 && strings.Trim(string(v), "x") == "" {
		return "x*" + strconv.Itoa(len(v))
	}
	return string(v)
}

func TestStateErrors(t *testing.T) {
	h := useTestRegistry(t)
	v := NewValueState("v", 0)
	other := NewValueState("other", 0)
	var kept *Context
	Process("p", func(in *Record, ctx *Context) error {
		kept = ctx
		switch string(in.Payload()) {
		case "other":
			return other.Put(ctx, nil)
		case "list-op": // the fake host says INVALID for a kind mismatch
			_, _, err := v.Get(ctx)
			return err
		}
		return v.PutInt64(ctx, 1)
	}, State(v))
	Process("q", func(*Record, *Context) error { return nil }, State(other))

	// Without keyed state on the host (a v1 host before the state imports).
	if rc := call(t, callProcess, 0, payloads("x")); rc != rcError || len(h.frames) != 0 {
		t.Fatalf("unsupported: rc %d, %d frames", rc, len(h.frames))
	}
	if want := `weir: writing state "v": the host does not support keyed state (UNSUPPORTED)`; h.errors[0] != want {
		t.Errorf("got %q, want %q", h.errors[0], want)
	}

	st := useFakeState(t, StateList)
	for _, c := range []struct{ payload, want string }{
		{"list-op", `weir: reading state "v": the host refused the call as invalid (INVALID)`},
		{"other", `weir: writing state "other": the state belongs to function "q", not "p"`},
	} {
		h.reset()
		if rc := call(t, callProcess, 0, st.batch("k", c.payload)); rc != rcError || h.errors[0] != c.want {
			t.Errorf("%s: rc %d, errors %q, want %q", c.payload, rc, h.errors, c.want)
		}
	}
	// A Context kept past its call, or none at all, reaches no state.
	if err := v.PutInt64(kept, 1); !errors.Is(err, ErrStateInvalid) || !strings.Contains(err.Error(), "only reachable during a process call") {
		t.Errorf("kept context: %v", err)
	}
	if _, _, err := v.Get(nil); !errors.Is(err, ErrStateInvalid) {
		t.Errorf("nil context: %v", err)
	}
	if err := NewValueState("loose", 0).Clear(kept); err == nil || !strings.Contains(err.Error(), "not declared by any function") {
		t.Errorf("undeclared: %v", err)
	}

	// An int64 counter that holds something else is an error, not garbage.
	h = useTestRegistry(t)
	st = useFakeState(t, StateValue)
	c := NewValueState("c", 0)
	Process("p", func(_ *Record, ctx *Context) error { _, _, err := c.GetInt64(ctx); return err }, State(c))
	st.vals[[3]string{"0", "k", ""}] = []byte("abc")
	h.reset()
	if rc := call(t, callProcess, 0, st.batch("k", "")); rc != rcError || !strings.Contains(h.errors[0], `state "c": the value is 3 bytes, not an 8-byte little-endian int64`) {
		t.Errorf("rc %d, errors %q", rc, h.errors)
	}
	if err := (&StateError{Op: "reading", State: "c", Reason: "the value is 3 bytes"}); errors.Is(err, ErrStateInvalid) || errors.Is(err, ErrStateUnsupported) {
		t.Errorf("a value the SDK cannot use is not a refused call: %v", err)
	}
	var se *StateError
	if !errors.As(error(&StateError{Op: "reading", State: "s", Code: -7}), &se) || !strings.Contains(se.Error(), "unexpected return code -7") {
		t.Errorf("unknown code: %v", se)
	}
}

func TestReduce(t *testing.T) {
	h := useTestRegistry(t)
	st := useFakeState(t, StateReducing)
	Reduce("sum", func(acc, value []byte) ([]byte, error) {
		a, err := strconv.Atoi(string(acc))
		if err != nil {
			return nil, errors.New("sum: stored value " + strconv.Quote(string(acc)) + " is not a number")
		}
		b, err := strconv.Atoi(string(value))
		if err != nil {
			return nil, errors.New("sum: payload " + strconv.Quote(string(value)) + " is not a number")
		}
		return strconv.AppendInt(acc[:0], int64(a+b), 10), nil
	})
	outs := func() []string {
		var p []string
		for i, o := range decodeOutputFrame(t, h.frames[0]) {
			if o.Parent != uint32(i) || o.Tag != 0 || o.Flags != flagPayload {
				t.Errorf("output %d: %+v", i, o)
			}
			p = append(p, o.Payload)
		}
		return p
	}
	if rc := call(t, callProcess, 0, st.batch("a", "1", "b", "10", "a", "2", "a", "3")); rc != rcOK {
		t.Fatalf("rc %d, errors %q", rc, h.errors)
	}
	if got, want := outs(), []string{"1", "10", "3", "6"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	h.reset()
	if rc := call(t, callProcess, 0, st.batch("b", "5", "a", "4", "c", "junk")); rc != rcOK {
		t.Fatalf("rc %d, errors %q", rc, h.errors)
	}
	// The first value of a key is its payload as it is, unchecked (ABI §4.1).
	if got, want := outs(), []string{"15", "10", "junk"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	h.reset()
	if rc := call(t, callProcess, 0, st.batch("a", "x")); rc != rcError || len(h.frames) != 0 || h.errors[0] != `sum: payload "x" is not a number` {
		t.Errorf("rc %d, %d frames, errors %q", rc, len(h.frames), h.errors)
	}
	if string(st.vals[[3]string{"0", "a", ""}]) != "10" {
		t.Errorf("a failed call must not have written the state: %q", st.vals[[3]string{"0", "a", ""}])
	}

	// Without keyed state the call fails and says why.
	testState = nil
	h.reset()
	if rc := call(t, callProcess, 0, st.batch("a", "1")); rc != rcError || !strings.Contains(h.errors[0], `reading state "reduce"`) {
		t.Errorf("rc %d, errors %q", rc, h.errors)
	}
}

// counterHost is a state host that allocates nothing: one 8-byte value for
// every key, enough to measure the SDK's own allocations.
type counterHost struct{ v [8]byte }

func (c *counterHost) get(_, _ int32, _, out []byte) int32 { copy(out, c.v[:]); return 8 }
func (c *counterHost) put(_, _ int32, _, val []byte) int32 { copy(c.v[:], val); return 0 }
func (c *counterHost) append(int32, int32, []byte) int32   { return 0 }
func (c *counterHost) delete(int32, int32, []byte) int32   { return 0 }
func (c *counterHost) iter(int32, int32, int32, []byte) int32 {
	return stateAbsent
}

func TestProcessAndReduceAllocateNothing(t *testing.T) {
	useTestRegistry(t)
	testState = &counterHost{}
	t.Cleanup(func() { testState = nil })
	count := NewValueState("count", 0)
	Process("count", func(_ *Record, ctx *Context) error {
		n, _, err := count.GetInt64(ctx)
		if err == nil {
			err = count.PutInt64(ctx, n+1)
		}
		o := ctx.Emit()
		o.SetPayload(strconv.AppendInt(o.Buffer(), n+1, 10))
		return err
	}, State(count))
	Reduce("max", func(acc, value []byte) ([]byte, error) {
		if string(value) > string(acc) {
			return append(acc[:0], value...), nil
		}
		return acc, nil
	})
	in := batchFrame(
		testRecord{Flags: flagKey | flagPayload, Key: "k", Payload: "abcdefgh"},
		testRecord{Flags: flagKey | flagPayload | flagTimestamp, Key: "k", Payload: "bcdefghi", Timestamp: 5},
	)
	testEmit = func([]byte) {} // the capturing host allocates; this one does not
	for fn := int32(0); fn < 2; fn++ {
		call(t, callProcess, fn, in) // let the buffers grow
		if n := testing.AllocsPerRun(50, func() { call(t, callProcess, fn, in) }); n != 0 {
			t.Errorf("function %d: %v allocations per batch", fn, n)
		}
	}
}

func TestTaskInfo(t *testing.T) {
	t.Cleanup(func() { testTaskInfo, taskCached, task = nil, false, Task{} })
	taskCached = false
	calls := 0
	info := `{"job_id":"j-1","job_name":"counts \"daily\"","step":"count","subtask":1,"parallelism":2,` +
		`"max_parallelism":128,"attempt":3,"later":"` + strings.Repeat("z", 300) + `"}`
	testTaskInfo = func(out []byte) int32 {
		calls++
		if len(info) <= len(out) {
			copy(out, info)
		}
		return int32(len(info))
	}
	want := Task{JobID: "j-1", JobName: `counts "daily"`, Step: "count", Subtask: 1, Parallelism: 2, MaxParallelism: 128, Attempt: 3}
	for i := 0; i < 3; i++ {
		got, err := TaskInfo()
		if err != nil || got != want {
			t.Fatalf("got %+v, %v; want %+v", got, err, want)
		}
	}
	if calls != 2 { // one too small, one fitting, then the cache
		t.Errorf("%d host calls, want 2", calls)
	}

	for _, c := range []struct{ info, err string }{
		{`[1]`, `weir: reading task info: the host sent "[1]", not a JSON object`},
		{`{"attempt":"3"}`, `weir: reading task info: attempt is not an integer`},
		{`{"job_id":7}`, `weir: reading task info: job_id is not a string`},
	} {
		taskCached, info = false, c.info
		if _, err := TaskInfo(); err == nil || err.Error() != c.err {
			t.Errorf("%s: got %v, want %s", c.info, err, c.err)
		}
	}
	taskCached, info = false, `{}`
	if got, err := TaskInfo(); err != nil || got != (Task{}) {
		t.Errorf("empty object: %+v, %v", got, err)
	}
	taskCached = false
	testTaskInfo = func([]byte) int32 { return -2 }
	if _, err := TaskInfo(); err == nil || !strings.Contains(err.Error(), "code -2") {
		t.Errorf("negative code: %v", err)
	}
}

// BenchmarkProcessCount is the keyed running count per record: decode, read and
// write an int64 state, emit a payload. The host's side is counterHost, which
// costs next to nothing, so this is the SDK's own cost.
func BenchmarkProcessCount(b *testing.B) {
	useTestRegistry(b)
	testState = &counterHost{}
	testEmit = func([]byte) {}
	b.Cleanup(func() { testState = nil })
	count := NewValueState("count", 0)
	Process("count", func(_ *Record, ctx *Context) error {
		n, _, err := count.GetInt64(ctx)
		if err == nil {
			err = count.PutInt64(ctx, n+1)
		}
		o := ctx.Emit()
		o.SetPayload(strconv.AppendInt(o.Buffer(), n+1, 10))
		return err
	}, State(count))
	recs := make([]testRecord, 1024)
	for i := range recs {
		recs[i] = testRecord{Flags: flagKey | flagPayload, Key: "k", Payload: string(benchPayload)}
	}
	in := batchFrame(recs...)
	call(b, callProcess, 0, in)
	b.ReportAllocs()
	for b.Loop() {
		call(b, callProcess, 0, in)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
}

// FuzzDecodeEntry: a state_iter entry from the host never panics the decoder,
// and a well-formed one decodes to what was encoded.
func FuzzDecodeEntry(f *testing.F) {
	f.Add([]byte{flagPayload, 1, 0, 0, 0, 'x'})
	f.Add(appendTestRecord(nil, testRecord{Flags: flagKey | flagPayload, Key: "sub", Payload: "val"}))
	f.Add([]byte{flagKey | flagPayload, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		sub, val, ok := decodeEntry(b)
		if !ok {
			return
		}
		flags := b[0]
		back := appendTestRecord(nil, testRecord{Flags: flags, Key: string(sub), Payload: string(val)})
		if string(back) != string(b) {
			t.Fatalf("%x decodes to %q, %q, which encode to %x", b, sub, val, back)
		}
	})
}

// FuzzParseTask: whatever the host sends as task info, parsing ends in a Task or
// an error, never a panic.
func FuzzParseTask(f *testing.F) {
	f.Add([]byte(`{"job_id":"j","job_name":"n","step":"s","subtask":1,"parallelism":2,"max_parallelism":128,"attempt":3}`))
	f.Add([]byte(`{"attempt":1e3}`))
	f.Add([]byte(`{"job_id":"\ud800"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := parseTask(b); err == nil && !validJSONObject(b) {
			t.Fatalf("%q parsed without being a JSON object", b)
		}
	})
}
