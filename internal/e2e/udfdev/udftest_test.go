package udfdev

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// wasmPath returns a module `make examples` built.
func wasmPath(t *testing.T, name string) string {
	dir := os.Getenv("WEIR_TEST_WASM_DIR")
	if dir == "" {
		dir = filepath.Join(repoRoot(t), "build", "wasm")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("module %s not found: run `make examples` (make test does)", p)
	}
	return p
}

// cacheDir is the compilation cache of the weir udf test runs of this test
// binary, shared by them (the user's own cache stays untouched).
func cacheDir(t *testing.T) string {
	cacheOnce.Do(func() {
		dir, err := os.MkdirTemp("", "weir-udfdev-cache-")
		if err != nil {
			t.Fatal(err)
		}
		cache = dir
	})
	return cache
}

var (
	cacheOnce sync.Once
	cache     string
)

// TestMain removes the shared compilation cache after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if cache != "" {
		os.RemoveAll(cache)
	}
	os.Exit(code)
}

// weir runs the weir binary with stdin and returns its output and exit status.
func weir(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, weirBin(t), args...)
	cmd.Env = append(os.Environ(), "WEIR_CACHE_DIR="+cacheDir(t))
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errOut.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), 0
}

// TestUDFTestCommand: weir udf test on the example modules, with the record
// forms, the config, batches, and failures.
func TestUDFTestCommand(t *testing.T) {
	input := `{"id":1,"amount":12}
{"key":"k2","timestamp":7,"payload":{"amount":-3},"headers":{"h":["a","b"]}}
{"key_base64":"AP8=","payload":"{\"amount\":2}"}

["not","an","order"]
`
	want := `{"payload":{"id":1,"amount":36}}
{"key":"k2","timestamp":7,"payload":{"amount":-9},"headers":{"h":["a","b"]}}
{"key_base64":"AP8=","payload":{"amount":6}}
{"payload":["not","an","order"]}
`
	// The Go and AssemblyScript modules have every function used here.
	for _, m := range []string{"orders.wasm", "orders_as.wasm"} {
		stdout, stderr, code := weir(t, input, "udf", "test", wasmPath(t, m), "--function", "enrich", "--config", `{"factor":3}`, "--batch", "2")
		if code != 0 || stdout != want {
			t.Errorf("%s: exit %d\nstdout:\n%s\nwant:\n%s\nstderr:\n%s", m, code, stdout, want, stderr)
		}
		// A UDF error: status 1 and the UDF's message.
		_, stderr, code = weir(t, "{\"amount\":1}\n{\"amount\":-1}\n", "udf", "test", wasmPath(t, m), "--function", "fail")
		if code != 1 || !strings.Contains(stderr, `udf "fail": error: amount must not be negative`) {
			t.Errorf("%s fail: exit %d, stderr %s", m, code, stderr)
		}
		// A trap: status 1 and the guest's panic line.
		_, stderr, code = weir(t, `{"amount":13}`, "udf", "test", wasmPath(t, m), "--function", "panic")
		if code != 1 || !strings.Contains(stderr, "panic: udf panic: boom") {
			t.Errorf("%s panic: exit %d, stderr %s", m, code, stderr)
		}
		// A bad config fails at open.
		_, stderr, code = weir(t, "", "udf", "test", wasmPath(t, m), "--function", "enrich", "--config", `{"bogus":1}`)
		if code != 1 || !strings.Contains(stderr, `udf "enrich": error: enrich`) {
			t.Errorf("%s bad config: exit %d, stderr %s", m, code, stderr)
		}
	}
	// --format payload and a flat_map.
	stdout, _, code := weir(t, `{"words":["a","b"]}`+"\n", "udf", "test", wasmPath(t, "orders_as.wasm"), "--function", "split", "--format", "payload")
	if code != 0 || stdout != "\"a\"\n\"b\"\n" {
		t.Errorf("split: exit %d, %q", code, stdout)
	}
	// Usage errors and unknown functions.
	if _, stderr, code := weir(t, "", "udf", "test", wasmPath(t, "orders.wasm")); code != 2 || !strings.Contains(stderr, "--function") {
		t.Errorf("no --function: exit %d, %s", code, stderr)
	}
	if _, stderr, code := weir(t, "", "udf", "test", wasmPath(t, "orders.wasm"), "--function", "nope"); code != 1 || !strings.Contains(stderr, `has no function "nope"; it has enrich (map)`) {
		t.Errorf("unknown function: exit %d, %s", code, stderr)
	}
	if _, stderr, code := weir(t, "", "udf", "test", wasmPath(t, "testdata/start_only.wasm"), "--function", "passthrough"); code != 1 || !strings.Contains(stderr, "command, not a reactor") {
		t.Errorf("a command module: exit %d, %s", code, stderr)
	}
	if _, stderr, code := weir(t, "{\"timestamp\":\"x\"}\n", "udf", "test", wasmPath(t, "orders.wasm"), "--function", "enrich"); code != 1 || !strings.Contains(stderr, "input line 1: timestamp") {
		t.Errorf("bad input: exit %d, %s", code, stderr)
	}
}

// TestUDFTestKeyedState runs a process function with keyed state: the state
// lives for the run, per record key, across batches.
func TestUDFTestKeyedState(t *testing.T) {
	input := `{"key":"\"a\"","payload":{"key":"a","seq":1}}
{"key":"\"b\"","payload":{"key":"b","seq":1}}
{"key":"\"a\"","payload":{"key":"a","seq":2}}
`
	want := `{"key":"a","seq":1,"count":1,"attempt":1}
{"key":"b","seq":1,"count":1,"attempt":1}
{"key":"a","seq":2,"count":2,"attempt":1}
`
	stdout, stderr, code := weir(t, input, "udf", "test", wasmPath(t, "counter.wasm"), "--function", "count", "--format", "payload", "--batch", "2")
	if code != 0 || stdout != want {
		t.Errorf("exit %d\nstdout:\n%s\nwant:\n%s\nstderr:\n%s", code, stdout, want, stderr)
	}
}
