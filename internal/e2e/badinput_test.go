package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weir-streams/weir/internal/client"
)

func apiError(t *testing.T, err error) *client.APIError {
	t.Helper()
	require.Error(t, err)
	var ae *client.APIError
	require.True(t, errors.As(err, &ae), "want an API error, got %v", err)
	return ae
}

func uploadBytes(s *standalone, name string, b []byte) error {
	_, err := s.client.UploadModule(context.Background(), name, bytes.NewReader(b))
	return err
}

// TestBadInput checks that each kind of bad input gets a 4xx naming the problem.
func TestBadInput(t *testing.T) {
	s := startStandalone(t, t.TempDir())
	s.upload("orders", "orders.wasm")
	s.stream("ORDERS", "orders.in")
	s.stream("RESULTS", "orders.out")
	ctx := context.Background()

	t.Run("not wasm", func(t *testing.T) {
		ae := apiError(t, uploadBytes(s, "junk", []byte("this is not a wasm module")))
		require.Equal(t, http.StatusBadRequest, ae.Status)
		require.Contains(t, ae.Message, "not a valid WebAssembly module")
	})
	for _, tc := range []struct{ file, want string }{
		{"testdata/abi_v2.wasm", "ABI version 2"},
		{"testdata/start_only.wasm", "_start but not _initialize"},
		{"testdata/no_describe.wasm", "missing export weir_describe"},
		{"testdata/bad_describe.wasm", "invalid JSON"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b := mustRead(t, wasmPath(t, tc.file))
			ae := apiError(t, uploadBytes(s, "bad", b))
			require.Equal(t, http.StatusBadRequest, ae.Status)
			require.Contains(t, ae.Message, tc.want)
		})
	}
	t.Run("oversized", func(t *testing.T) {
		big := make([]byte, 65<<20)
		copy(big, "\x00asm\x01\x00\x00\x00")
		ae := apiError(t, uploadBytes(s, "big", big))
		require.Equal(t, http.StatusRequestEntityTooLarge, ae.Status)
		require.Contains(t, ae.Message, "limit")
	})
	t.Run("bad module name", func(t *testing.T) {
		ae := apiError(t, uploadBytes(s, "no spaces", mustRead(t, wasmPath(t, "orders.wasm"))))
		require.Equal(t, http.StatusBadRequest, ae.Status)
		require.Equal(t, "name", ae.Field)
	})

	submitErr := func(t *testing.T, spec string) *client.APIError {
		t.Helper()
		_, err := s.client.SubmitJob(ctx, []byte(spec), false)
		ae := apiError(t, err)
		require.Equal(t, http.StatusBadRequest, ae.Status, "%v", ae)
		return ae
	}
	good := ordersJob("bad", "orders", "ORDERS", "orders.out", 1)
	t.Run("malformed yaml", func(t *testing.T) {
		ae := submitErr(t, "name: x\npipeline:\n  - id: [unclosed\n")
		require.Contains(t, ae.Message, "YAML")
		require.Equal(t, 3, ae.Line)
	})
	t.Run("unknown key", func(t *testing.T) {
		ae := submitErr(t, strings.Replace(good, "function: enrich", "fnction: enrich", 1))
		require.Contains(t, ae.Message, `unknown key "fnction"`)
		require.Contains(t, ae.Field, "pipeline[1].map")
		require.Equal(t, 8, ae.Line)
	})
	t.Run("not supported yet", func(t *testing.T) {
		ae := submitErr(t, good+"checkpointing: { interval: 2s, unaligned: true }\n")
		require.Contains(t, ae.Message, "not supported yet")
		require.Equal(t, "checkpointing.unaligned", ae.Field)
	})
	t.Run("missing input", func(t *testing.T) {
		ae := submitErr(t, strings.Replace(good, "  - id: positive\n", "  - id: positive\n    input: nowhere\n", 1))
		require.Contains(t, ae.Message, `"nowhere"`)
		require.Contains(t, ae.Field, "input")
	})
	t.Run("unknown module", func(t *testing.T) {
		ae := submitErr(t, strings.Replace(good, "map: { module: orders", "map: { module: nosuch", 1))
		require.Contains(t, ae.Message, `unknown module "nosuch"`)
		require.Equal(t, "pipeline[1].map.module", ae.Field)
	})
	t.Run("missing function", func(t *testing.T) {
		ae := submitErr(t, strings.Replace(good, "function: enrich", "function: nosuch", 1))
		require.Contains(t, ae.Message, `no function "nosuch"`)
		require.Equal(t, "pipeline[1].map.function", ae.Field)
	})
	t.Run("wrong function kind", func(t *testing.T) {
		ae := submitErr(t, strings.Replace(good, "function: enrich", "function: positive", 1))
		require.Contains(t, ae.Message, "is a filter function, but this step is a map")
	})
	t.Run("delete module in use", func(t *testing.T) {
		id := s.submit(ordersJob("in-use", "orders", "ORDERS", "orders.out", 1))
		s.waitStatus(id, "RUNNING", time.Minute)
		err := s.client.DeleteModule(ctx, "orders")
		ae := apiError(t, err)
		require.Equal(t, http.StatusConflict, ae.Status)
		require.Contains(t, ae.Message, id)
		_, err = s.client.CancelJob(ctx, id)
		require.NoError(t, err)
		s.waitStatus(id, "CANCELED", time.Minute)
	})
	t.Run("sink subject without stream", func(t *testing.T) {
		id := s.submit(ordersJob("no-stream", "orders", "ORDERS", "nowhere.out", 1))
		j := s.waitStatus(id, "FAILED", time.Minute)
		require.Contains(t, j.Reason, `sink subject "nowhere.out" is not captured by any stream`)
	})
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := readFile(path)
	require.NoError(t, err)
	return b
}

// udfJob is a one-map job over stream in with the named module function.
func udfJob(name, module, function, in, out, limits string) string {
	return fmt.Sprintf(`name: %s
%s
pipeline:
  - id: src
    source: { jetstream: { stream: %s } }
  - id: udf
    map: { module: %s, function: %s }
  - id: out
    sink: { jetstream: { subject: %s } }
`, name, limits, in, module, function, out)
}

// TestUDFFailures checks that traps, errors, endless loops and memory hogs fail
// their job with the UDF's message, and that the worker keeps serving other jobs.
func TestUDFFailures(t *testing.T) {
	s := startStandalone(t, t.TempDir())
	s.upload("trap", "testdata/trap.wasm")
	s.upload("error", "testdata/error.wasm")
	s.upload("loop", "testdata/loop.wasm")
	s.upload("hog", "testdata/memhog.wasm")
	s.upload("orders", "orders.wasm")
	s.stream("IN", "in.>")
	s.stream("OUT", "out.>")
	ctx := context.Background()

	fails := func(t *testing.T, name, module, fn, limits, kind, msg string) {
		t.Helper()
		id := s.submit(udfJob(name, module, fn, "IN", "out."+name, limits))
		j := s.waitStatus(id, "FAILED", 2*time.Minute)
		require.Contains(t, j.Reason, msg)
		ex, err := s.client.JobExceptions(ctx, id)
		require.NoError(t, err)
		require.NotEmpty(t, ex.Exceptions)
		require.Equal(t, kind, ex.Exceptions[0].Kind)
		require.Contains(t, ex.Exceptions[0].Message, msg)
	}
	s.publish("in.a", orderPayloads(0, 100))

	t.Run("trap", func(t *testing.T) {
		fails(t, "trap", "trap", "trap", "", "udf_trap", "unreachable")
		ex, err := s.client.JobExceptions(ctx, lastJobID(t, s, "trap"))
		require.NoError(t, err)
		require.NotEmpty(t, ex.Exceptions[0].Stack, "a trap carries its Wasm stack")
	})
	t.Run("error", func(t *testing.T) {
		fails(t, "error", "error", "fail", "", "udf_error", "bad record 7")
	})
	t.Run("go panic", func(t *testing.T) {
		s.publish("in.b", [][]byte{[]byte(`{"id":1,"amount":13}`)})
		fails(t, "panic", "orders", "panic", "", "udf_trap", "udf panic: boom")
	})
	t.Run("memory cap", func(t *testing.T) {
		fails(t, "hog", "hog", "hog", "limits: { memory: 8MiB }", "udf_memory", "memory limit of 8MiB exceeded")
	})
	t.Run("two endless loops and a healthy job", func(t *testing.T) {
		s.stream("HEALTHY", "healthy.in")
		s.stream("HEALTHY_OUT", "healthy.out")
		healthy := s.submit(ordersJob("healthy", "orders", "HEALTHY", "healthy.out", 1))
		s.waitStatus(healthy, "RUNNING", time.Minute)
		a := s.submit(udfJob("spin-a", "loop", "spin", "IN", "out.spin-a", "limits: { call_timeout: 1s }"))
		b := s.submit(udfJob("spin-b", "loop", "spin", "IN", "out.spin-b", "limits: { call_timeout: 1s }"))
		s.publish("healthy.in", orderPayloads(0, 20_000))
		for _, id := range []string{a, b} {
			j := s.waitStatus(id, "FAILED", 2*time.Minute)
			require.Contains(t, j.Reason, "time limit of 1s")
		}
		want := expectedOrders(0, 20_000)
		s.waitCount("HEALTHY_OUT", uint64(len(want)), 2*time.Minute)
		require.Equal(t, "RUNNING", s.job(healthy).Status)
		// After the loops are gone, the healthy job still moves records through.
		s.publish("healthy.in", orderPayloads(20_000, 40_000))
		s.waitCount("HEALTHY_OUT", uint64(len(expectedOrders(0, 40_000))), 2*time.Minute)
	})
}

func lastJobID(t *testing.T, s *standalone, name string) string {
	t.Helper()
	jobs, err := s.client.ListJobs(context.Background())
	require.NoError(t, err)
	for i := len(jobs.Jobs) - 1; i >= 0; i-- {
		if jobs.Jobs[i].Name == name {
			return jobs.Jobs[i].ID
		}
	}
	t.Fatalf("no job named %s", name)
	return ""
}
