package wasmhost

import (
	"context"
	"log/slog"
	"math"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/weir-streams/weir/wasmhost/internal/meter"
)

// hostModuleName is the import module of the Weir ABI.
const hostModuleName = "weir"

// Return codes of the weir imports (sdk/ABI.md §1).
const (
	codeUnsupported = -2
)

const (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

// hostImport is one function of the weir host module: its signature is part of the ABI.
type hostImport struct {
	name    string
	params  []api.ValueType
	results []api.ValueType
	fn      api.GoModuleFunc
}

// hostImports lists every import of ABI v1, implemented or reserved.
var hostImports = []hostImport{
	{"emit", []api.ValueType{i32, i32}, nil, hostEmit},
	{"error", []api.ValueType{i32, i32}, nil, hostError},
	{"log", []api.ValueType{i32, i32, i32}, nil, hostLog},
	{"state_get", []api.ValueType{i32, i32, i32, i32, i32, i32}, []api.ValueType{i32}, hostStateGet},
	{"state_put", []api.ValueType{i32, i32, i32, i32, i32, i32}, []api.ValueType{i32}, hostStatePut},
	{"state_append", []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}, hostStateAppend},
	{"state_delete", []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}, hostStateDelete},
	{"state_iter", []api.ValueType{i32, i32, i32, i32, i32}, []api.ValueType{i32}, hostStateIter},
	{"task_info", []api.ValueType{i32, i32}, []api.ValueType{i32}, hostTaskInfo},
	{"timer_register", []api.ValueType{i32, i32, i64}, []api.ValueType{i32}, hostTimerRegister},
	{"timer_delete", []api.ValueType{i32, i32, i64}, []api.ValueType{i32}, hostTimerDelete},
	{"current_watermark", nil, []api.ValueType{i64}, hostCurrentWatermark},
	{"current_time", nil, []api.ValueType{i64}, hostCurrentTime},
	// __yield is called by the fuel checks meter adds to every loop.
	{meter.YieldName, nil, []api.ValueType{i32}, hostYield},
}

// errInterrupted aborts a guest whose call deadline passed or whose task ended.
var errInterrupted = abiViolation("interrupted")

// hostYield runs every fuelPerYield loop iterations of a guest: it traps the guest
// when its call's context has ended and otherwise refuels it.
func hostYield(ctx context.Context, _ api.Module, stack []uint64) {
	if err := ctx.Err(); err != nil {
		if inst := callerOf(ctx); inst != nil {
			inst.interrupted = err
		}
		panic(errInterrupted)
	}
	stack[0] = api.EncodeI32(fuelPerYield)
}

func instantiateHostModule(ctx context.Context, rt wazero.Runtime) error {
	b := rt.NewHostModuleBuilder(hostModuleName)
	for _, h := range hostImports {
		b.NewFunctionBuilder().WithGoModuleFunction(h.fn, h.params, h.results).Export(h.name)
	}
	_, err := b.Instantiate(ctx)
	return err
}

// callKey carries the Instance making a guest call to the host functions.
type callKey struct{}

func callerOf(ctx context.Context) *Instance {
	inst, _ := ctx.Value(callKey{}).(*Instance)
	return inst
}

func hostEmit(ctx context.Context, mod api.Module, stack []uint64) {
	inst := callerOf(ctx)
	ptr, n := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	if inst == nil || !inst.emitAllowed {
		// Called outside a process call (e.g. from _initialize or open): an ABI violation.
		if inst != nil {
			inst.abort(abiViolation("weir.emit called outside a process call"))
		}
		panic(abiViolation("weir.emit called outside a process call"))
	}
	buf, ok := mod.Memory().Read(ptr, n)
	if !ok {
		inst.abort(abiViolation("weir.emit: frame out of memory bounds"))
	}
	if err := inst.onEmit(buf); err != nil {
		inst.abort(err)
	}
}

func hostError(ctx context.Context, mod api.Module, stack []uint64) {
	inst := callerOf(ctx)
	if inst == nil {
		return
	}
	ptr, n := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	const maxMessage = 8 << 10
	buf, ok := mod.Memory().Read(ptr, min(n, maxMessage))
	if !ok {
		inst.abort(abiViolation("weir.error: message out of memory bounds"))
	}
	inst.errMsg = string(buf)
}

func hostLog(ctx context.Context, mod api.Module, stack []uint64) {
	level, ptr, n := int32(stack[0]), api.DecodeU32(stack[1]), api.DecodeU32(stack[2])
	const maxLine = 4 << 10
	buf, ok := mod.Memory().Read(ptr, min(n, maxLine))
	if !ok {
		return
	}
	inst := callerOf(ctx)
	logger := slog.Default()
	if inst != nil {
		logger = inst.logger
	}
	lvl := slog.LevelInfo
	switch level {
	case 0:
		lvl = slog.LevelDebug
	case 2:
		lvl = slog.LevelWarn
	case 3:
		lvl = slog.LevelError
	}
	logger.Log(ctx, lvl, string(buf), "source", "udf")
}

func unsupported(_ context.Context, _ api.Module, stack []uint64) {
	stack[0] = api.EncodeI32(codeUnsupported)
}

// unsupported64 answers the reserved imports that return a time: -2 would be a
// valid time, so they return the smallest i64.
func unsupported64(_ context.Context, _ api.Module, stack []uint64) {
	stack[0] = api.EncodeI64(math.MinInt64)
}

// abiViolation is the panic value a host function uses to abort a guest call.
type abiViolation string

func (a abiViolation) Error() string { return string(a) }
