package weir

import (
	"strconv"
	"unicode/utf8"
)

// MapFunc transforms one record into exactly one output. It writes the new
// fields into out; whatever it leaves unset is inherited from in, so a MapFunc
// that returns without touching out passes the record on unchanged.
type MapFunc func(in *Record, out *Output) error

// MapBytesFunc is the convenience form of a map: it returns the new payload, which
// the SDK copies. A nil result passes the record on unchanged; an empty non-nil
// slice makes the payload empty.
type MapBytesFunc func(in *Record) ([]byte, error)

// FilterFunc reports whether to keep a record. Kept records are passed on
// unchanged.
type FilterFunc func(in *Record) (bool, error)

// FlatMapFunc emits zero or more outputs for one record through c.
type FlatMapFunc func(in *Record, c *Collector) error

// KeySelectorFunc returns the key of one record: it appends the key's bytes to
// key, an empty buffer the SDK reuses from record to record, and returns the
// result (so that the usual key, built with append, costs no allocation). Any
// bytes make a key, none included; Weir hashes them as they are. To agree with a
// built-in `key_by: {json_field: f}`, return the canonical JSON text of the value
// (docs/job-spec.md); for a string without escapes or a plain integer, that is
// its JSON text as [JSONGet] returns it.
type KeySelectorFunc func(in *Record, key []byte) ([]byte, error)

// Option configures a registered function.
type Option func(*function)

// OnOpen sets a hook the host calls once per instance before the function sees
// any record, with the step's configuration: a JSON object, "{}" when the job
// gives none. The SDK passes a copy, which the hook may keep. An error fails the
// task with the error's text.
func OnOpen(fn func(config []byte) error) Option {
	return func(f *function) { f.open = fn }
}

// OnClose sets a hook the host calls once when the task ends normally.
func OnClose(fn func() error) Option {
	return func(f *function) { f.close = fn }
}

// SideOutputs declares the function's side outputs; the i-th one has output tag
// i+1 (see [Collector.EmitTo]).
func SideOutputs(names ...string) Option {
	return func(f *function) { f.sideOutputs = append(f.sideOutputs, names...) }
}

// kind names a function kind in the module description.
type kind string

const (
	kindMap     kind = "map"
	kindFilter  kind = "filter"
	kindFlatMap kind = "flat_map"
	kindKey     kind = "key_selector"
	kindProcess kind = "process"
	kindReduce  kind = "reduce"

	kindAggregate     kind = "aggregate"
	kindWindowProcess kind = "window_process"
	kindTimestamp     kind = "timestamp_extractor"
	kindCoProcess     kind = "co_process"
	kindTrigger       kind = "trigger"
	kindEvictor       kind = "evictor"
)

// function is one registered function; its index is its position in registry.
type function struct {
	name        string
	kind        kind
	mapFn       MapFunc
	filterFn    FilterFunc
	flatMapFn   FlatMapFunc
	keyFn       KeySelectorFunc
	processFn   ProcessFunc
	process2Fn  ProcessFunc // a co_process function's second input
	reduceFn    ReduceFunc
	timerFn     TimerFunc
	aggFns      *AggregateFuncs
	windowFn    WindowProcessFunc
	timestampFn TimestampFunc
	triggerFn   TriggerFunc
	evictorFn   EvictorFunc
	// reduceState is the reducing state the SDK declares for a reduce function.
	reduceState *ValueState
	// state is the function's keyed state, in state-number order.
	state       []*stateHandle
	open        func(config []byte) error
	close       func() error
	sideOutputs []string
}

var (
	registry    []*function
	description []byte // built on the first weir_describe
	// sealed ends registration: set by the first weir_describe or weir_call,
	// after which function indexes must not change.
	sealed bool
)

// Map registers a map function: one output per input record.
func Map(name string, fn MapFunc, opts ...Option) {
	register(&function{name: name, kind: kindMap, mapFn: fn}, opts)
}

// MapBytes registers a map function written in the convenience form.
func MapBytes(name string, fn MapBytesFunc, opts ...Option) {
	Map(name, func(in *Record, out *Output) error {
		p, err := fn(in)
		if err == nil && p != nil {
			out.SetPayload(p)
		}
		return err
	}, opts...)
}

// Filter registers a filter function.
func Filter(name string, fn FilterFunc, opts ...Option) {
	register(&function{name: name, kind: kindFilter, filterFn: fn}, opts)
}

// FlatMap registers a flat_map function: zero or more outputs per input record.
func FlatMap(name string, fn FlatMapFunc, opts ...Option) {
	register(&function{name: name, kind: kindFlatMap, flatMapFn: fn}, opts)
}

// KeySelector registers a key_selector function: it gives each record its key,
// for a `key_by: {module, function}` step. The host keeps every other field of
// the record. A key selector declares no side outputs.
func KeySelector(name string, fn KeySelectorFunc, opts ...Option) {
	register(&function{name: name, kind: kindKey, keyFn: fn}, opts)
}

// register adds f to the registry. Mistakes panic: registration runs during
// package initialisation, so the module then fails to instantiate and the
// upload is refused with the panic's message on stderr.
func register(f *function, opts []Option) {
	if sealed {
		panic("weir: " + f.name + ": functions must be registered during initialisation")
	}
	if f.mapFn == nil && f.filterFn == nil && f.flatMapFn == nil && f.keyFn == nil && f.processFn == nil && f.reduceFn == nil && f.aggFns == nil && f.windowFn == nil && f.timestampFn == nil && f.triggerFn == nil && f.evictorFn == nil {
		panic("weir: " + f.name + ": nil function")
	}
	if !validName(f.name) {
		panic("weir: invalid function name " + strconv.Quote(f.name) + ": want 1-128 characters from [A-Za-z0-9_.-]")
	}
	for _, g := range registry {
		if g.name == f.name {
			panic("weir: function " + strconv.Quote(f.name) + " registered twice")
		}
	}
	for _, o := range opts {
		o(f)
	}
	if f.kind == kindKey && len(f.sideOutputs) > 0 {
		panic("weir: " + f.name + ": a key_selector has no side outputs")
	}
	switch f.kind {
	case kindReduce, kindAggregate, kindTimestamp, kindTrigger, kindEvictor:
		if len(f.sideOutputs) > 0 {
			panic("weir: " + f.name + ": a " + string(f.kind) + " function has no side outputs")
		}
	}
	if f.timerFn != nil && f.kind != kindProcess && f.kind != kindCoProcess {
		panic("weir: " + f.name + ": only process and co_process functions have timers")
	}
	for _, s := range f.sideOutputs {
		if s == "" || !utf8.ValidString(s) {
			panic("weir: " + f.name + ": invalid side output name " + strconv.Quote(s))
		}
	}
	bindState(f)
	registry = append(registry, f)
}

func validName(s string) bool {
	if len(s) < 1 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// describe returns the module description (ABI §2), building it once.
func describe() []byte {
	sealed = true
	if description != nil {
		return description
	}
	b := []byte(`{"abi_version":1,"sdk":"go/` + Version + `","functions":[`)
	for i, f := range registry {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = appendJSONString(b, f.name)
		b = append(b, `,"kind":`...)
		b = appendJSONString(b, string(f.kind))
		b = append(b, `,"index":`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `,"side_outputs":[`...)
		for j, s := range f.sideOutputs {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, s)
		}
		b = append(b, `],"state":[`...)
		for j, h := range f.state {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = appendJSONString(b, h.name)
			b = append(b, `,"kind":`...)
			b = appendJSONString(b, string(h.kind))
			b = append(b, `,"ttl_ms":`...)
			b = strconv.AppendInt(b, h.ttlMS, 10)
			b = append(b, '}')
		}
		b = append(b, "]}"...)
	}
	description = append(b, "]}"...)
	return description
}

// appendJSONString appends s as a JSON string. s is valid UTF-8.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
