package wasmhost_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weir-streams/weir/internal/record"
	"github.com/weir-streams/weir/wasmhost"
)

func wasmFile(t testing.TB, name string) []byte {
	t.Helper()
	dir := os.Getenv("WEIR_TEST_WASM_DIR")
	if dir == "" {
		dir = filepath.Join("..", "build", "wasm")
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("module %s: %v (run `make examples`; make test does)", name, err)
	}
	return b
}

func newRuntime(t testing.TB) *wasmhost.Runtime {
	t.Helper()
	cache := os.Getenv("WEIR_TEST_WASM_CACHE")
	rt, err := wasmhost.NewRuntime(context.Background(), wasmhost.Options{CacheDir: cache})
	require.NoError(t, err)
	t.Cleanup(func() { rt.Close(context.Background()) })
	return rt
}

func load(t testing.TB, rt *wasmhost.Runtime, name string) *wasmhost.Module {
	t.Helper()
	m, err := rt.Load(context.Background(), name, wasmFile(t, name))
	require.NoError(t, err)
	return m
}

func batchOf(payloads ...string) *record.Batch {
	var b record.Batch
	b.Reset()
	for i, p := range payloads {
		v := record.View{Flags: record.FlagPayload | record.FlagTimestamp, Payload: []byte(p), Timestamp: int64(1000 + i)}
		b.Append(&v)
	}
	return &b
}

func payloads(t testing.TB, b *record.Batch) []string {
	var out []string
	r := b.Reader()
	var v record.View
	for r.Next(&v) {
		out = append(out, string(v.Payload))
	}
	require.NoError(t, r.Err())
	return out
}

func instance(t testing.TB, m *wasmhost.Module, fn string, lim wasmhost.Limits) *wasmhost.Instance {
	t.Helper()
	inst, err := m.Instantiate(context.Background(), fn, lim, nil)
	require.NoError(t, err)
	require.NoError(t, inst.Open(context.Background(), nil))
	t.Cleanup(func() { inst.Close(context.Background(), false) })
	return inst
}

func TestMapFilterSameInGoAndWAT(t *testing.T) {
	rt := newRuntime(t)
	in := []string{`{"id":1,"amount":5}`, `{"id":2,"amount":-3}`, `{"id":3}`, `{"id":4,"amount":"x"}`, `{"amount": 0,"id":5}`}
	for _, file := range []string{"orders.wasm", "orders_wat.wasm"} {
		t.Run(file, func(t *testing.T) {
			m := load(t, rt, file)
			enrich := instance(t, m, "enrich", wasmhost.Limits{})
			out, err := enrich.Process(context.Background(), batchOf(in...))
			require.NoError(t, err)
			require.Equal(t, []string{`{"id":1,"amount":500}`, `{"id":2,"amount":-300}`, `{"id":3}`, `{"id":4,"amount":"x"}`, `{"amount": 0,"id":5}`}, payloads(t, out))
			// Inherited fields survive a map.
			r := out.Reader()
			var v record.View
			require.True(t, r.Next(&v))
			require.True(t, v.HasTimestamp())
			require.Equal(t, int64(1000), v.Timestamp)

			positive := instance(t, m, "positive", wasmhost.Limits{})
			out, err = positive.Process(context.Background(), batchOf(in...))
			require.NoError(t, err)
			require.Equal(t, []string{`{"id":1,"amount":5}`}, payloads(t, out))

			out, err = positive.Process(context.Background(), batchOf())
			require.NoError(t, err)
			require.Equal(t, 0, out.Len())
		})
	}
}

func TestValidate(t *testing.T) {
	rt := newRuntime(t)
	for _, tc := range []struct{ file, want string }{
		{"testdata/abi_v2.wasm", "ABI version 2"},
		{"testdata/start_only.wasm", "_start but not _initialize"},
		{"testdata/no_describe.wasm", "missing export weir_describe"},
		{"testdata/bad_describe.wasm", "invalid JSON"},
	} {
		_, err := rt.Validate(context.Background(), wasmFile(t, tc.file))
		require.ErrorIs(t, err, wasmhost.ErrInvalidModule, tc.file)
		require.ErrorContains(t, err, tc.want, tc.file)
	}
	_, err := rt.Validate(context.Background(), []byte("nope"))
	require.ErrorContains(t, err, "not a valid WebAssembly module")
	d, err := rt.Validate(context.Background(), wasmFile(t, "orders.wasm"))
	require.NoError(t, err)
	require.Equal(t, "map", d.Function("enrich").Kind)
	require.Equal(t, "filter", d.Function("positive").Kind)
}

func callErr(t *testing.T, err error) *wasmhost.CallError {
	t.Helper()
	var ce *wasmhost.CallError
	require.True(t, errors.As(err, &ce), "want a CallError, got %v", err)
	return ce
}

func TestFailures(t *testing.T) {
	rt := newRuntime(t)
	ctx := context.Background()

	inst := instance(t, load(t, rt, "testdata/trap.wasm"), "trap", wasmhost.Limits{})
	_, err := inst.Process(ctx, batchOf("x"))
	ce := callErr(t, err)
	require.Equal(t, wasmhost.FailureTrap, ce.Kind)
	require.Contains(t, ce.Message, "unreachable")
	require.NotEmpty(t, ce.Stack)
	require.True(t, inst.Broken())

	inst = instance(t, load(t, rt, "testdata/error.wasm"), "fail", wasmhost.Limits{})
	_, err = inst.Process(ctx, batchOf("x"))
	ce = callErr(t, err)
	require.Equal(t, wasmhost.FailureError, ce.Kind)
	require.Equal(t, "bad record 7", ce.Message)

	inst = instance(t, load(t, rt, "testdata/memhog.wasm"), "hog", wasmhost.Limits{Memory: 4 << 20})
	_, err = inst.Process(ctx, batchOf("x"))
	ce = callErr(t, err)
	require.Equal(t, wasmhost.FailureMemory, ce.Kind)

	inst = instance(t, load(t, rt, "orders.wasm"), "panic", wasmhost.Limits{})
	_, err = inst.Process(ctx, batchOf(`{"amount":13}`))
	ce = callErr(t, err)
	require.Equal(t, wasmhost.FailureTrap, ce.Kind)
	require.Contains(t, ce.Message, "udf panic: boom")
}

// TestLoopsAreInterrupted runs two endless loops at once: both are interrupted at
// their limit, and a third instance keeps working meanwhile and afterwards.
func TestLoopsAreInterrupted(t *testing.T) {
	rt := newRuntime(t)
	require.Equal(t, max(1, runtime.GOMAXPROCS(0)-1), rt.MaxConcurrentCalls())
	loop := load(t, rt, "testdata/loop.wasm")
	errs := make(chan error, 2)
	start := time.Now()
	for range 2 {
		inst := instance(t, loop, "spin", wasmhost.Limits{CallTimeout: 200 * time.Millisecond})
		go func() {
			_, err := inst.Process(context.Background(), batchOf("x"))
			errs <- err
		}()
	}
	for range 2 {
		ce := callErr(t, <-errs)
		require.Equal(t, wasmhost.FailureTimeout, ce.Kind)
	}
	require.Less(t, time.Since(start), 30*time.Second)
	id := instance(t, load(t, rt, "orders.wasm"), "identity", wasmhost.Limits{})
	out, err := id.Process(context.Background(), batchOf("a", "b"))
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b"}, payloads(t, out))
}

// benchBatch is a batch of n JSON records of about 60 bytes.
func benchBatch(n int) *record.Batch {
	ps := make([]string, n)
	for i := range ps {
		ps[i] = fmt.Sprintf(`{"id":%d,"amount":%d,"user":"user-%04d","ok":true}`, i, i%1000, i%7919)
	}
	return batchOf(ps...)
}

func benchmarkFn(b *testing.B, file, fn string) {
	rt := newRuntime(b)
	inst := instance(b, load(b, rt, file), fn, wasmhost.Limits{Memory: 1 << 30})
	const n = 1024
	in := benchBatch(n)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := inst.Process(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkIdentityWAT is the host overhead per record: a hand-written identity map
// that copies each payload in and out does almost no guest work.
func BenchmarkIdentityWAT(b *testing.B) { benchmarkFn(b, "orders_wat.wasm", "identity") }

// BenchmarkIdentityGo is the same identity map through the Go SDK.
func BenchmarkIdentityGo(b *testing.B) { benchmarkFn(b, "orders.wasm", "identity") }

// BenchmarkEnrichGo is the JSON enricher with the SDK's allocation-free field access.
func BenchmarkEnrichGo(b *testing.B) { benchmarkFn(b, "orders.wasm", "enrich") }

// BenchmarkEnrichGoStdJSON is the same enricher written with encoding/json.
func BenchmarkEnrichGoStdJSON(b *testing.B) { benchmarkFn(b, "orders.wasm", "enrich_stdjson") }

// BenchmarkIdentitySmallWAT is the smallest identity module (udf-examples/wat/identity.wat).
func BenchmarkIdentitySmallWAT(b *testing.B) { benchmarkFn(b, "identity_wat.wasm", "identity") }

// TestKeySelector runs the customer key selector of both order modules: every
// record comes out once, in order, with its key replaced and the rest kept.
func TestKeySelector(t *testing.T) {
	rt := newRuntime(t)
	in := []string{`{"id":1,"customer":"c-42"}`, `{"customer":17}`, `{"id":3}`, `[1]`}
	keys := []string{`"c-42"`, `17`, `null`, `null`}
	for _, file := range []string{"orders.wasm", "orders_wat.wasm"} {
		t.Run(file, func(t *testing.T) {
			m := load(t, rt, file)
			require.Equal(t, wasmhost.KindKeySelector, m.Description.Function("customer").Kind)
			ks := instance(t, m, "customer", wasmhost.Limits{})
			b := batchOf(in...)
			// Records that had a key get a new one.
			var keyed record.Batch
			keyed.Reset()
			r := b.Reader()
			var v record.View
			for r.Next(&v) {
				v.Flags |= record.FlagKey
				v.Key = []byte("old")
				keyed.Append(&v)
			}
			for _, batch := range []*record.Batch{b, &keyed} {
				out, err := ks.Process(context.Background(), batch)
				require.NoError(t, err)
				require.Equal(t, in, payloads(t, out))
				r := out.Reader()
				for i := 0; r.Next(&v); i++ {
					require.True(t, v.HasKey())
					require.Equal(t, keys[i], string(v.Key))
					require.Equal(t, int64(1000+i), v.Timestamp)
				}
			}
		})
	}
}

func TestKeySelectorWrongCount(t *testing.T) {
	rt := newRuntime(t)
	ks := instance(t, load(t, rt, "testdata/keyless.wasm"), "keyless", wasmhost.Limits{})
	_, err := ks.Process(context.Background(), batchOf(`{}`, `{}`))
	ce := callErr(t, err)
	require.Equal(t, wasmhost.FailureABI, ce.Kind)
	require.Contains(t, ce.Message, "key_selector function emitted 0 records for 2 inputs")
}
