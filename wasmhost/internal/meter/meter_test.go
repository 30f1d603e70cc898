package meter

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// instantiate instruments wasm with the given fuel and instantiates it with a
// yield that counts its calls.
func instantiate(t *testing.T, wasm []byte, fuel int32) (api.Module, *int) {
	t.Helper()
	ctx := context.Background()
	metered, err := Instrument(wasm, fuel)
	if err != nil {
		t.Fatal(err)
	}
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { rt.Close(ctx) })
	yields := new(int)
	_, err = rt.NewHostModuleBuilder(YieldModule).NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(func(_ context.Context, _ api.Module, stack []uint64) {
			*yields++
			stack[0] = uint64(fuel)
		}), nil, []api.ValueType{api.ValueTypeI32}).Export(YieldName).Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := rt.InstantiateWithConfig(ctx, metered, wazero.NewModuleConfig().WithName("m"))
	if err != nil {
		t.Fatalf("instrumented module does not instantiate: %v", err)
	}
	return mod, yields
}

func call(t *testing.T, m api.Module, name string, args ...uint64) uint64 {
	t.Helper()
	res, err := m.ExportedFunction(name).Call(context.Background(), args...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return res[0]
}

func TestShapes(t *testing.T) {
	wasm, err := os.ReadFile("testdata/shapes.wasm")
	if err != nil {
		t.Fatal(err)
	}
	m, yields := instantiate(t, wasm, 100)
	if v, _ := m.Memory().ReadUint32Le(0); v != 42 {
		t.Fatalf("start function did not run: %d", v)
	}
	if got := call(t, m, "via_table", 0, 21); got != 42 {
		t.Fatalf("via_table(double, 21) = %d", got)
	}
	if got := call(t, m, "sum", 1000); got != 499500 {
		t.Fatalf("sum(1000) = %d", got)
	}
	// 1001 loop heads at fuel 100: the first yield comes at once, then one per 100.
	if *yields < 10 || *yields > 12 {
		t.Fatalf("%d yields for 1001 loop iterations at fuel 100", *yields)
	}
	if got := call(t, m, "via_table", 1, 10); got != 45 {
		t.Fatalf("via_table(sum, 10) = %d", got)
	}
	if got := call(t, m, "is_double"); got != 0 {
		t.Fatalf("ref.func gave null")
	}
	// The added import is the yield.
	metered, _ := Instrument(wasm, 100)
	cm, err := wazero.NewRuntime(context.Background()).CompileModule(context.Background(), metered)
	if err != nil {
		t.Fatal(err)
	}
	if mod, name, _ := cm.ImportedFunctions()[0].Import(); mod != YieldModule || name != YieldName {
		t.Fatalf("import %s.%s, want %s.%s", mod, name, YieldModule, YieldName)
	}
}

// TestBuiltModules instruments every module `make examples` builds: each must
// still compile.
func TestBuiltModules(t *testing.T) {
	dir := os.Getenv("WEIR_TEST_WASM_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "build", "wasm")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.wasm"))
	more, _ := filepath.Glob(filepath.Join(dir, "testdata", "*.wasm"))
	files = append(files, more...)
	if len(files) == 0 {
		t.Fatalf("no modules in %s: run `make examples` (make test does)", dir)
	}
	rt := wazero.NewRuntime(context.Background())
	defer rt.Close(context.Background())
	for _, f := range files {
		wasm, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		metered, err := Instrument(wasm, 1000)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := rt.CompileModule(context.Background(), metered); err != nil {
			t.Errorf("%s: instrumented module does not compile: %v", f, err)
		}
	}
}

func TestMalformed(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("\x00asm"), []byte("\x00asm\x01\x00\x00\x00\x0a\xff"), []byte("junkjunkjunk")} {
		if _, err := Instrument(b, 1); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: err %v", b, err)
		}
	}
}

func FuzzInstrument(f *testing.F) {
	if wasm, err := os.ReadFile("testdata/shapes.wasm"); err == nil {
		f.Add(wasm)
	}
	f.Fuzz(func(t *testing.T, wasm []byte) {
		_, _ = Instrument(wasm, 10) // must not panic
	})
}
