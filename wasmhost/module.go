package wasmhost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/weir-streams/weir/wasmhost/internal/meter"
)

// ABIVersion is the version of sdk/ABI.md this host implements.
const ABIVersion = 1

// Function kinds of ABI v1 (sdk/ABI.md §2).
const (
	KindMap                = "map"
	KindFilter             = "filter"
	KindFlatMap            = "flat_map"
	KindKeySelector        = "key_selector"
	KindTimestampExtractor = "timestamp_extractor"
	KindReduce             = "reduce"
	KindAggregate          = "aggregate"
	KindWindowProcess      = "window_process"
	KindProcess            = "process"
	KindCoProcess          = "co_process"
	KindTrigger            = "trigger"
	KindEvictor            = "evictor"
)

var knownKinds = []string{KindMap, KindFilter, KindFlatMap, KindKeySelector, KindTimestampExtractor,
	KindReduce, KindAggregate, KindWindowProcess, KindProcess, KindCoProcess, KindTrigger, KindEvictor}

// Executable reports whether this host can run functions of kind.
func Executable(kind string) bool {
	switch kind {
	case KindMap, KindFilter, KindFlatMap, KindKeySelector, KindProcess, KindReduce, KindAggregate, KindWindowProcess, KindTimestampExtractor,
		KindCoProcess, KindTrigger, KindEvictor:
		return true
	}
	return false
}

// Description is what a module says about itself through weir_describe.
type Description struct {
	ABIVersion int        `json:"abi_version"`
	SDK        string     `json:"sdk,omitempty"`
	Functions  []Function `json:"functions"`
}

// Function describes one UDF of a module.
type Function struct {
	Name        string            `json:"name"`
	Kind        string            `json:"kind"`
	Index       int32             `json:"index"`
	SideOutputs []string          `json:"side_outputs,omitempty"`
	State       []StateDescriptor `json:"state,omitempty"`
}

// StateDescriptor is a keyed state a function declares.
type StateDescriptor struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	TTLms int64  `json:"ttl_ms,omitempty"`
}

// Function returns the function called name, or nil.
func (d *Description) Function(name string) *Function {
	for i := range d.Functions {
		if d.Functions[i].Name == name {
			return &d.Functions[i]
		}
	}
	return nil
}

var functionName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

func (d *Description) validate() error {
	if d.ABIVersion != ABIVersion {
		return invalidf("weir_describe says ABI version %d; this host speaks version %d", d.ABIVersion, ABIVersion)
	}
	if len(d.Functions) == 0 {
		return invalidf("the module describes no functions")
	}
	names := map[string]bool{}
	indexes := map[int32]bool{}
	for _, f := range d.Functions {
		if !functionName.MatchString(f.Name) {
			return invalidf("function name %q: want 1-128 characters of [A-Za-z0-9_.-]", f.Name)
		}
		if names[f.Name] {
			return invalidf("function %q is described twice", f.Name)
		}
		names[f.Name] = true
		if f.Index < 0 || indexes[f.Index] {
			return invalidf("function %q: index %d is negative or used twice", f.Name, f.Index)
		}
		indexes[f.Index] = true
		if !slices.Contains(knownKinds, f.Kind) {
			return invalidf("function %q: unknown kind %q", f.Name, f.Kind)
		}
		if f.Kind == KindKeySelector && (len(f.SideOutputs) > 0 || len(f.State) > 0) {
			return invalidf("function %q: a key_selector declares no side outputs and no state", f.Name)
		}
		if f.Kind == KindReduce && (len(f.State) == 0 || f.State[0].Kind != StateReducing) {
			return invalidf("function %q: a reduce function's first state must be of kind %q (sdk/ABI.md §4.1)", f.Name, StateReducing)
		}
		for _, s := range f.State {
			switch s.Kind {
			case StateValue, StateList, StateMap, StateReducing, StateAggregating:
			case StateBroadcast:
				if f.Kind != KindCoProcess {
					return invalidf("function %q: state %q is of kind %q, which only a co_process function can declare (sdk/ABI.md §4.8)", f.Name, s.Name, s.Kind)
				}
				if s.TTLms != 0 {
					return invalidf("function %q: broadcast state %q has ttl_ms %d; broadcast state has no expiry (sdk/ABI.md §4.8)", f.Name, s.Name, s.TTLms)
				}
			default:
				return invalidf("function %q: state %q has unknown kind %q", f.Name, s.Name, s.Kind)
			}
		}
	}
	return nil
}

// Module is a compiled and validated UDF module. It is safe for concurrent use.
type Module struct {
	rt            *Runtime
	compiled      wazero.CompiledModule
	hasInitialize bool
	// Description is the module's own description.
	Description Description
}

// requiredExports are the functions every module exports, with their signatures.
var requiredExports = []struct {
	name            string
	params, results []api.ValueType
}{
	{"weir_abi_version", nil, []api.ValueType{i32}},
	{"weir_alloc", []api.ValueType{i32}, []api.ValueType{i32}},
	{"weir_describe", nil, []api.ValueType{i64}},
	{"weir_call", []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}},
}

// Load compiles wasm, checks it against the ABI and reads its description. Modules
// are cached by digest: a digest already loaded is returned without recompiling.
func (r *Runtime) Load(ctx context.Context, digest string, wasm []byte) (*Module, error) {
	r.mu.Lock()
	m, ok := r.modules[digest]
	r.mu.Unlock()
	if ok {
		return m, nil
	}
	m, err := r.compile(ctx, wasm)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if prev, ok := r.modules[digest]; ok {
		_ = m.compiled.Close(ctx)
		return prev, nil
	}
	r.modules[digest] = m
	return m, nil
}

// Validate checks wasm against the ABI and returns its description without keeping
// the compiled module (its machine code stays in the compilation cache).
func (r *Runtime) Validate(ctx context.Context, wasm []byte) (*Description, error) {
	m, err := r.compile(ctx, wasm)
	if err != nil {
		return nil, err
	}
	defer m.compiled.Close(ctx)
	return &m.Description, nil
}

// fuelPerYield is how many loop iterations a guest runs between two calls to
// weir.__yield, which checks the call's deadline and lets the Go scheduler preempt.
const fuelPerYield = 20000

func (r *Runtime) compile(ctx context.Context, wasm []byte) (*Module, error) {
	metered, err := meter.Instrument(wasm, fuelPerYield)
	if err != nil {
		// wazero names the problem of a broken module better than the meter does.
		if _, cerr := r.rt.CompileModule(ctx, wasm); cerr != nil {
			return nil, invalidf("not a valid WebAssembly module: %v", cerr)
		}
		return nil, invalidf("not a valid WebAssembly module: %v", err)
	}
	compiled, err := r.rt.CompileModule(ctx, metered)
	if err != nil {
		return nil, invalidf("not a valid WebAssembly module: %v", err)
	}
	m := &Module{rt: r, compiled: compiled}
	if err := m.checkShape(); err != nil {
		compiled.Close(ctx)
		return nil, err
	}
	if err := m.describe(ctx); err != nil {
		compiled.Close(ctx)
		return nil, err
	}
	return m, nil
}

// checkShape checks exports and imports without running any guest code.
func (m *Module) checkShape() error {
	exports := m.compiled.ExportedFunctions()
	_, hasStart := exports["_start"]
	_, m.hasInitialize = exports["_initialize"]
	if hasStart && !m.hasInitialize {
		return invalidf("the module exports _start but not _initialize: it is a command, not a reactor (build Go UDFs with -buildmode=c-shared)")
	}
	if init, ok := exports["_initialize"]; ok && (len(init.ParamTypes()) != 0 || len(init.ResultTypes()) != 0) {
		return invalidf("export _initialize must have type () -> ()")
	}
	if _, ok := m.compiled.ExportedMemories()["memory"]; !ok {
		return invalidf("the module does not export its memory as \"memory\"")
	}
	for _, want := range requiredExports {
		def, ok := exports[want.name]
		if !ok {
			return invalidf("missing export %s (sdk/ABI.md §1)", want.name)
		}
		if !slices.Equal(def.ParamTypes(), want.params) || !slices.Equal(def.ResultTypes(), want.results) {
			return invalidf("export %s has type %s, want %s", want.name,
				signature(def.ParamTypes(), def.ResultTypes()), signature(want.params, want.results))
		}
	}
	for _, imp := range m.compiled.ImportedFunctions() {
		mod, name, _ := imp.Import()
		switch mod {
		case "wasi_snapshot_preview1":
		case hostModuleName:
			i := slices.IndexFunc(hostImports, func(h hostImport) bool { return h.name == name })
			if i < 0 {
				return invalidf("imports weir.%s, which ABI v1 does not define", name)
			}
			h := hostImports[i]
			if !slices.Equal(imp.ParamTypes(), h.params) || !slices.Equal(imp.ResultTypes(), h.results) {
				return invalidf("imports weir.%s with type %s, want %s", name,
					signature(imp.ParamTypes(), imp.ResultTypes()), signature(h.params, h.results))
			}
		default:
			return invalidf("imports %s.%s: only wasi_snapshot_preview1 and weir imports are provided", mod, name)
		}
	}
	return nil
}

func signature(params, results []api.ValueType) string {
	s := "("
	for i, p := range params {
		if i > 0 {
			s += ", "
		}
		s += api.ValueTypeName(p)
	}
	s += ") -> ("
	for i, p := range results {
		if i > 0 {
			s += ", "
		}
		s += api.ValueTypeName(p)
	}
	return s + ")"
}

// describe instantiates the module once to read its ABI version and description.
func (m *Module) describe(ctx context.Context) error {
	inst, err := m.instantiate(ctx, validationLimits, m.rt.logger)
	if err != nil {
		return invalidf("instantiating: %v", err)
	}
	defer inst.closeModule(ctx)
	results, err := inst.callRaw(ctx, inst.mod.ExportedFunction("weir_abi_version"))
	if err != nil {
		return invalidf("calling weir_abi_version: %v", err)
	}
	if v := int32(results); v != ABIVersion {
		return invalidf("the module speaks ABI version %d; this host speaks version %d", v, ABIVersion)
	}
	packed, err := inst.callRaw(ctx, inst.mod.ExportedFunction("weir_describe"))
	if err != nil {
		return invalidf("calling weir_describe: %v", err)
	}
	ptr, n := uint32(packed>>32), uint32(packed)
	buf, ok := inst.mod.Memory().Read(ptr, n)
	if !ok {
		return invalidf("weir_describe returned %d bytes at %d, outside memory", n, ptr)
	}
	var d Description
	if err := json.Unmarshal(buf, &d); err != nil {
		return invalidf("weir_describe returned invalid JSON: %v", err)
	}
	if err := d.validate(); err != nil {
		return err
	}
	m.Description = d
	return nil
}

// errUnknownFunction is returned by Instantiate for a function the module lacks.
var errUnknownFunction = errors.New("wasmhost: unknown function")

// Close releases the compiled module. Instances made from it must be closed first.
func (m *Module) Close(ctx context.Context) error { return m.compiled.Close(ctx) }

func (m *Module) lookup(name string) (*Function, error) {
	f := m.Description.Function(name)
	if f == nil {
		return nil, fmt.Errorf("%w: %q", errUnknownFunction, name)
	}
	return f, nil
}

// Cached returns the module loaded under digest, or nil.
func (r *Runtime) Cached(digest string) *Module {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.modules[digest]
}
