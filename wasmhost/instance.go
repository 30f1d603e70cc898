package wasmhost

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"

	"github.com/weir-streams/weir/internal/record"
)

// Call kinds of weir_call (sdk/ABI.md §4).
const (
	callOpen      = 1
	callProcess   = 2
	callProcess2  = 3
	callTimer     = 4
	callWindow    = 5
	callClose     = 6
	callAggregate = 7
	callTrigger   = 8
	callEvict     = 9
)

// Instance is one sandbox of a module bound to one of its functions. It belongs to
// one goroutine (its subtask) and is not safe for concurrent use.
type Instance struct {
	module *Module
	fn     *Function
	limits Limits
	logger *slog.Logger
	mod    api.Module
	alloc  *cappedAllocator
	stderr *tailBuffer

	allocFn api.Function
	callFn  api.Function
	stack   [4]uint64

	// bufPtr and bufCap locate the guest's input buffer from weir_alloc.
	bufPtr, bufCap uint32

	// Per-call state, reset by each call.
	parents     parentCursor
	out         record.Batch
	errMsg      string
	abortErr    error
	interrupted error // the context error that made __yield trap the guest
	emitAllowed bool
	// scope says what the state and timer imports may do in the current call.
	scope stateScope
	// broadcastSecond says a co_process function's second input is broadcast
	// (sdk/ABI.md §4.7).
	broadcastSecond bool
	broken          bool
	// emitMode says how the current call's outputs are read.
	emitMode emitMode

	// side holds the outputs of the current call to each declared side output
	// (tag k+1 in side[k]); sidePtrs points at them for SideOutputs.
	side     []record.Batch
	sidePtrs []*record.Batch

	// state is the store behind the state imports; nil leaves them UNSUPPORTED.
	state KeyedState
	// stateBuf is reused for the results of state reads.
	stateBuf []byte
	// taskInfo is what weir.task_info returns.
	taskInfo []byte
	// timers is the timer service behind the timer imports; nil leaves them
	// UNSUPPORTED. watermark is what weir.current_watermark returns.
	timers    Timers
	watermark int64
	// An aggregate call's outputs: spans of aggArena, sliced into aggSlices.
	aggOut    [][2]int
	aggArena  []byte
	aggSlices [][]byte
	// windows are the fired windows of a window call, what outputs inherit.
	windows []record.View
	// A trigger call's actions, one per event of trigEvents.
	trigOut    []TriggerAction
	trigEvents int
	// An evict call's outputs: per window a span of evArena, sliced into
	// evSlices; evSizes are the windows' element counts.
	evSizes  []uint32
	evOut    [][2]int
	evArena  []uint32
	evSlices [][]uint32
	// extract is what a timestamp_extractor's process call found.
	extract extraction

	// callNanos and memBytes are the instance's figures for metrics: the time spent
	// in guest calls, and the guest memory's size after the last call. Other
	// goroutines read them (Stats).
	callNanos atomic.Int64
	memBytes  atomic.Uint64
}

// Stats returns the time the instance has spent in guest calls and the size of its
// linear memory after the last call. It is safe to call from any goroutine.
func (i *Instance) Stats() (callTime time.Duration, memoryBytes uint64) {
	return time.Duration(i.callNanos.Load()), i.memBytes.Load()
}

// Instantiate creates an instance of m bound to function fnName.
func (m *Module) Instantiate(ctx context.Context, fnName string, limits Limits, logger *slog.Logger) (*Instance, error) {
	fn, err := m.lookup(fnName)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = m.rt.logger
	}
	inst, err := m.instantiate(ctx, limits, logger.With("function", fnName))
	if err != nil {
		return nil, err
	}
	inst.fn = fn
	inst.initSideOutputs()
	return inst, nil
}

func (m *Module) instantiate(ctx context.Context, limits Limits, logger *slog.Logger) (*Instance, error) {
	limits = limits.withDefaults()
	inst := &Instance{watermark: math.MinInt64,
		module: m,
		limits: limits,
		logger: logger,
		alloc:  &cappedAllocator{limit: uint64(limits.Memory)},
		stderr: &tailBuffer{logger: logger, stream: "stderr"},
	}
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithStdout(&tailBuffer{logger: logger, stream: "stdout"}).
		WithStderr(inst.stderr)
	if m.hasInitialize {
		cfg = cfg.WithStartFunctions("_initialize")
	} else {
		cfg = cfg.WithStartFunctions()
	}
	// _initialize runs guest code (a Go runtime's start-up): bound it like a call,
	// with a floor so that a slow machine does not refuse a healthy module.
	ictx, cancel := context.WithTimeout(ctx, max(limits.CallTimeout, 10*time.Second))
	defer cancel()
	ictx = experimental.WithMemoryAllocator(ictx, inst.alloc)
	if err := m.rt.acquire(ctx); err != nil {
		return nil, err
	}
	mod, err := m.rt.rt.InstantiateModule(ictx, m.compiled, cfg)
	m.rt.release()
	if err != nil {
		if inst.alloc.hit {
			return nil, fmt.Errorf("instantiating: memory limit of %s exceeded", formatBytes(limits.Memory))
		}
		return nil, fmt.Errorf("instantiating: %w%s", err, inst.stderr.suffix())
	}
	inst.mod = mod
	inst.allocFn = mod.ExportedFunction("weir_alloc")
	inst.callFn = mod.ExportedFunction("weir_call")
	return inst, nil
}

// Function is the function this instance is bound to.
func (i *Instance) Function() *Function { return i.fn }

// Broken reports that the instance was interrupted or trapped and must be replaced.
func (i *Instance) Broken() bool { return i.broken }

// Open runs the function's open hook with the step's config (a JSON object).
func (i *Instance) Open(ctx context.Context, config []byte) error {
	if len(config) == 0 {
		config = []byte("{}")
	}
	return i.call(ctx, callOpen, config, false)
}

// Process runs the function on one batch (of the first input, for a co_process
// function) and returns its main output. The returned batch belongs to the
// instance and is valid until the next call; so are the side outputs
// (SideOutputs). For a
// key_selector the output is the input batch with every record's key set to what
// the function returned: one guest call per batch, never one per record.
func (i *Instance) Process(ctx context.Context, in *record.Batch) (*record.Batch, error) {
	i.out.Reset()
	i.parents.reset(in)
	i.extract = extraction{maxTS: math.MinInt64}
	switch i.fn.Kind {
	case KindProcess, KindReduce, KindCoProcess:
		i.scope = scopeKeyed
	}
	err := i.call(ctx, callProcess, in.Bytes(), true)
	i.scope = scopeNone
	if err != nil {
		return nil, err
	}
	// The counts below are of main outputs (tag 0): side outputs are extra.
	if i.fn.Kind == KindTimestampExtractor && i.extract.outputs != in.Len() {
		i.clearSideOutputs()
		return nil, i.abiError(fmt.Sprintf("timestamp_extractor function emitted %d records for %d inputs; it emits exactly one per input", i.extract.outputs, in.Len()))
	}
	if (i.fn.Kind == KindMap || i.fn.Kind == KindKeySelector || i.fn.Kind == KindReduce) && i.out.Len() != in.Len() {
		i.clearSideOutputs()
		return nil, i.abiError(fmt.Sprintf("%s function emitted %d records for %d inputs; a %s emits exactly one per input", i.fn.Kind, i.out.Len(), in.Len(), i.fn.Kind))
	}
	return &i.out, nil
}

// Close runs the function's close hook (when close is true) and releases the sandbox.
func (i *Instance) Close(ctx context.Context, runClose bool) error {
	var err error
	if runClose && !i.broken && i.mod != nil {
		err = i.call(ctx, callClose, nil, false)
	}
	i.closeModule(ctx)
	return err
}

func (i *Instance) closeModule(ctx context.Context) {
	if i.mod != nil {
		_ = i.mod.Close(ctx)
	}
	i.broken = true
}

// call writes input into the guest's buffer and runs weir_call. The side outputs
// start empty, and stay empty when the call fails: a failed call emits nothing.
func (i *Instance) call(ctx context.Context, kind uint32, input []byte, emitAllowed bool) error {
	i.clearSideOutputs()
	err := i.callGuest(ctx, kind, input, emitAllowed)
	if err != nil {
		i.clearSideOutputs()
	}
	return err
}

func (i *Instance) callGuest(ctx context.Context, kind uint32, input []byte, emitAllowed bool) error {
	if i.broken {
		return ErrClosed
	}
	if err := i.module.rt.acquire(ctx); err != nil {
		return err
	}
	defer i.module.rt.release()
	cctx, cancel := context.WithTimeout(ctx, i.limits.CallTimeout)
	defer cancel()
	cctx = context.WithValue(cctx, callKey{}, i)
	i.emitAllowed = emitAllowed
	i.errMsg, i.abortErr, i.interrupted = "", nil, nil
	if uint32(len(input)) > i.bufCap || i.bufPtr == 0 {
		want := max(uint32(len(input)), 64<<10, i.bufCap+i.bufCap/2)
		i.stack[0] = uint64(want)
		if err := i.allocFn.CallWithStack(cctx, i.stack[:]); err != nil {
			return i.failure(err)
		}
		ptr := uint32(i.stack[0])
		if ptr == 0 {
			return i.abiError(fmt.Sprintf("weir_alloc(%d) returned 0 (out of memory)", want))
		}
		i.bufPtr, i.bufCap = ptr, want
	}
	if len(input) > 0 && !i.mod.Memory().Write(i.bufPtr, input) {
		return i.abiError(fmt.Sprintf("weir_alloc returned %d, but %d bytes there run past memory", i.bufPtr, len(input)))
	}
	i.stack[0] = uint64(kind)
	i.stack[1] = uint64(uint32(i.fn.Index))
	i.stack[2] = uint64(i.bufPtr)
	i.stack[3] = uint64(len(input))
	start := time.Now()
	err := i.callFn.CallWithStack(cctx, i.stack[:])
	i.callNanos.Add(int64(time.Since(start)))
	if err != nil {
		return i.failure(err)
	}
	i.memBytes.Store(uint64(i.mod.Memory().Size()))
	switch code := int32(i.stack[0]); code {
	case 0:
		return nil
	case 1:
		msg := i.errMsg
		if msg == "" {
			msg = "the UDF returned an error without a message"
		}
		return &CallError{Function: i.fn.Name, Kind: FailureError, Message: msg}
	case 2:
		return i.abiError(fmt.Sprintf("weir_call: unknown function index %d", i.fn.Index))
	case 3:
		return i.abiError(fmt.Sprintf("weir_call: call kind %d not supported by the function", kind))
	case 4:
		return i.abiError("weir_call: the UDF reports malformed input")
	default:
		return i.abiError(fmt.Sprintf("weir_call returned %d", code))
	}
}

// callRaw calls a no-argument export with one result, under validation limits.
func (i *Instance) callRaw(ctx context.Context, fn api.Function) (uint64, error) {
	if err := i.module.rt.acquire(ctx); err != nil {
		return 0, err
	}
	defer i.module.rt.release()
	cctx, cancel := context.WithTimeout(ctx, i.limits.CallTimeout)
	defer cancel()
	res, err := fn.Call(cctx)
	if err != nil {
		return 0, err
	}
	if len(res) != 1 {
		return 0, errors.New("no result")
	}
	return res[0], nil
}

func (i *Instance) abiError(msg string) error {
	if i.errMsg != "" {
		msg += ": " + i.errMsg
	}
	return &CallError{Function: i.fn.Name, Kind: FailureABI, Message: msg}
}

// failure turns an error from wazero into a CallError and marks the instance broken:
// after a trap or an interruption its state cannot be trusted.
func (i *Instance) failure(err error) error {
	i.broken = true
	defer i.closeModule(context.Background())
	ce := &CallError{Function: i.fn.Name, Stderr: i.stderr.String()}
	switch {
	case errors.Is(i.interrupted, context.DeadlineExceeded):
		ce.Kind, ce.Message = FailureTimeout, fmt.Sprintf("call exceeded its time limit of %s and was interrupted", i.limits.CallTimeout)
		return ce
	case i.interrupted != nil:
		ce.Kind, ce.Message = FailureTimeout, "call interrupted: the task was canceled"
		return ce
	}
	if i.abortErr != nil {
		ce.Kind, ce.Message = FailureABI, i.abortErr.Error()
		var se stateError
		if errors.As(i.abortErr, &se) {
			ce.Kind = FailureState
		}
		return ce
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch exit.ExitCode() {
		case sys.ExitCodeDeadlineExceeded:
			ce.Kind, ce.Message = FailureTimeout, fmt.Sprintf("call exceeded its time limit of %s and was interrupted", i.limits.CallTimeout)
			return ce
		case sys.ExitCodeContextCanceled:
			ce.Kind, ce.Message = FailureTimeout, "call interrupted: the task was canceled"
			return ce
		}
		ce.Kind = FailureTrap
		ce.Message = fmt.Sprintf("the guest exited with code %d", exit.ExitCode())
		if i.alloc.hit {
			ce.Kind, ce.Message = FailureMemory, fmt.Sprintf("memory limit of %s exceeded", formatBytes(i.limits.Memory))
		}
		if tail := lastLines(ce.Stderr, 8); tail != "" {
			ce.Message += ": " + tail
		}
		return ce
	}
	msg := err.Error()
	ce.Kind = FailureTrap
	if head, stack, ok := strings.Cut(msg, "\nwasm stack trace:\n"); ok {
		ce.Message, ce.Stack = head, stack
	} else {
		ce.Message = msg
	}
	if i.alloc.hit {
		ce.Kind = FailureMemory
		ce.Message = fmt.Sprintf("memory limit of %s exceeded (%s)", formatBytes(i.limits.Memory), ce.Message)
	}
	// A Go guest prints its panic to stderr and then traps: the panic is the message.
	if line := panicLine(ce.Stderr); line != "" {
		ce.Message = line + " (" + ce.Message + ")"
	}
	return ce
}

// abort stops the current guest call with err; the call then fails with it.
func (i *Instance) abort(err error) {
	i.abortErr = err
	panic(err)
}

// onEmit reads an output frame: main outputs (tag 0) go to the call's output
// batch and side outputs to their tag's batch, each with the fields it inherits
// from its input record (or window) filled in. Aggregate, trigger and evict calls
// read their outputs their own way.
func (i *Instance) onEmit(frame []byte) error {
	if len(frame) < 4 {
		return abiViolation("weir.emit: malformed output frame: shorter than its count")
	}
	n := binary.LittleEndian.Uint32(frame)
	rest := frame[4:]
	sideOutputs := uint32(len(i.fn.SideOutputs))
	if len(i.side) != int(sideOutputs) {
		i.initSideOutputs()
	}
	for k := uint32(0); k < n; k++ {
		if len(rest) < 8 {
			return abiViolation("weir.emit: malformed output frame: truncated record header")
		}
		idx := binary.LittleEndian.Uint32(rest)
		tag := binary.LittleEndian.Uint32(rest[4:])
		var v record.View
		used, err := record.DecodeInto(rest[8:], &v)
		if err != nil {
			return abiViolation("weir.emit: malformed output frame: " + err.Error())
		}
		rest = rest[8+used:]
		switch i.emitMode {
		case emitAggregate:
			err = i.onAggregateEmit(idx, tag, &v)
		case emitTrigger:
			err = i.onTriggerEmit(idx, tag, &v)
		case emitEvict:
			err = i.onEvictEmit(idx, tag, &v)
		default:
			err = i.onRecordEmit(idx, tag, sideOutputs, &v)
		}
		if err != nil {
			return err
		}
	}
	if len(rest) != 0 {
		return abiViolation(fmt.Sprintf("weir.emit: malformed output frame: %d bytes after the last record", len(rest)))
	}
	return nil
}

// onRecordEmit takes one output of a call whose outputs are records: process,
// process2, timer and window calls.
func (i *Instance) onRecordEmit(idx, tag, sideOutputs uint32, v *record.View) error {
	if tag != 0 {
		if tag > sideOutputs {
			return abiViolation(fmt.Sprintf("weir.emit: output tag %d is not declared (the function declares %d side outputs)", tag, sideOutputs))
		}
		if err := i.inherit(idx, v); err != nil {
			return err
		}
		i.side[tag-1].Append(v)
		return nil
	}
	if i.fn.Kind == KindTimestampExtractor {
		return i.onExtracted(idx, v)
	}
	if i.fn.Kind == KindKeySelector {
		// One output per input, in order, carrying only the key: the host
		// keeps the rest of the input record (sdk/ABI.md §4).
		if want := uint32(i.out.Len()); idx != want || v.Flags != record.FlagKey {
			return abiViolation(fmt.Sprintf("weir.emit: key_selector output %d has input index %d and flags %#x; want input index %d and flags 0x01 (the key alone)", want, idx, v.Flags, want))
		}
	}
	if err := i.inherit(idx, v); err != nil {
		return err
	}
	i.out.Append(v)
	return nil
}

// inherit fills in the fields an output does not set from the record (or, in a
// window call, the window) it names.
func (i *Instance) inherit(idx uint32, v *record.View) error {
	if i.windows != nil {
		return i.onWindowEmit(idx, v)
	}
	if idx == record.NoParent {
		v.Flags |= record.FlagPayload
		return nil
	}
	p, err := i.parents.get(idx)
	if err != nil {
		return err
	}
	inheritFrom(v, p)
	return nil
}

// parentCursor finds the input record an output derives from. Outputs come in
// input order for every kind so far, so it decodes the batch forward, once; an
// output that refers back builds a full index.
type parentCursor struct {
	frame []byte
	count int
	off   int // offset of the record after v
	idx   int // index of v; -1 before the first
	v     record.View
	all   []record.View // full index, built only when an output refers back
}

func (c *parentCursor) reset(in *record.Batch) {
	c.frame = in.Bytes()
	c.count = in.Len()
	c.off = record.HeaderSize
	c.idx = -1
	c.all = c.all[:0]
}

func (c *parentCursor) get(idx uint32) (*record.View, error) {
	if idx >= uint32(c.count) {
		return nil, abiViolation(fmt.Sprintf("weir.emit: input index %d out of range (batch of %d)", idx, c.count))
	}
	if len(c.all) > 0 {
		return &c.all[idx], nil
	}
	if int(idx) < c.idx {
		r := record.NewReader(c.frame)
		var v record.View
		for r.Next(&v) {
			c.all = append(c.all, v)
		}
		if err := r.Err(); err != nil {
			return nil, err
		}
		return &c.all[idx], nil
	}
	for c.idx < int(idx) {
		n, err := record.DecodeInto(c.frame[c.off:], &c.v)
		if err != nil {
			return nil, fmt.Errorf("decoding input batch: %w", err)
		}
		c.off += n
		c.idx++
	}
	return &c.v, nil
}

// inheritFrom fills the fields v does not set from its parent record p.
func inheritFrom(v, p *record.View) {
	if v.Flags&record.FlagKey == 0 && p.Flags&record.FlagKey != 0 {
		v.Flags |= record.FlagKey
		v.Key = p.Key
	}
	if v.Flags&record.FlagTimestamp == 0 && p.Flags&record.FlagTimestamp != 0 {
		v.Flags |= record.FlagTimestamp
		v.Timestamp = p.Timestamp
	}
	if v.Flags&record.FlagPayload == 0 {
		v.Flags |= record.FlagPayload
		v.Payload = p.Payload
	}
	if v.Flags&record.FlagHeaders == 0 && p.Flags&record.FlagHeaders != 0 {
		v.Flags |= record.FlagHeaders
		v.Headers, v.HeaderCount = p.Headers, p.HeaderCount
	}
}

// tailBuffer logs what a guest writes, line by line, and keeps the last 4 KiB.
type tailBuffer struct {
	logger *slog.Logger
	stream string

	mu      sync.Mutex
	tail    []byte
	partial []byte
}

const tailSize = 4 << 10

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tail = append(t.tail, p...)
	if len(t.tail) > tailSize {
		t.tail = append(t.tail[:0], t.tail[len(t.tail)-tailSize:]...)
	}
	t.partial = append(t.partial, p...)
	for {
		nl := strings.IndexByte(string(t.partial), '\n')
		if nl < 0 {
			break
		}
		t.logger.Info(string(t.partial[:nl]), "source", "udf-"+t.stream)
		t.partial = t.partial[nl+1:]
	}
	if len(t.partial) > tailSize {
		t.partial = t.partial[:0]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.tail)
}

func (t *tailBuffer) suffix() string {
	if s := lastLines(t.String(), 8); s != "" {
		return ": " + s
	}
	return ""
}

// lastLines returns the first n lines of s: a Go panic prints its message first.
func lastLines(s string, n int) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// panicLine finds the line a Go guest's runtime prints when it panics or dies
// ("panic: ..." or "fatal error: ..."), else the first line of stderr.
func panicLine(stderr string) string {
	best := -1
	for _, marker := range []string{"\npanic: ", "\nfatal error: "} {
		if i := strings.LastIndex("\n"+stderr, marker); i >= 0 && i > best {
			best = i
		}
	}
	if best < 0 {
		return lastLines(stderr, 1)
	}
	line, _, _ := strings.Cut(stderr[best:], "\n")
	return strings.TrimSpace(line)
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}
