package udfdev

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// repoRoot is three levels up from this package.
func repoRoot(t *testing.T) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(wd, "..", "..", "..")
}

func weirBin(t *testing.T) string {
	p := os.Getenv("WEIR_TEST_BIN")
	if p == "" {
		p = filepath.Join(repoRoot(t), "bin", "weir")
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("weir binary not found at %s: run `make build` (make test does)", p)
	}
	return p
}

// sampleInput is what every language's example runs on. The examples differ
// where these records do not go (a fraction, an overflow: passed unchanged or an
// error), so their outputs here are the same.
const sampleInput = `{"id":1,"amount":12,"tags":["a","b"]}
{"id":2,"amount":-3,"tags":[]}
{"id":3,"amount":0}
{"key":"k4","payload":{"id":4,"note":"no amount","tags":["c"]}}
`

// exampleOutputs are the outputs (payloads, one a line) of the functions the
// README examples define, on sampleInput: cents, positive and (but in C) tags.
var exampleOutputs = map[string]string{
	"cents": `{"id":1,"amount":1200,"tags":["a","b"]}
{"id":2,"amount":-300,"tags":[]}
{"id":3,"amount":0}
{"id":4,"note":"no amount","tags":["c"]}
`,
	"positive": `{"id":1,"amount":12,"tags":["a","b"]}
`,
	"tags": `"a"
"b"
"c"
`,
}

// languages: where each SDK's README is, the fence of its example, and the
// file of a new project the example replaces.
var languages = []struct {
	lang, readme, fence, file string
	functions                 []string
}{
	{"go", "sdk/go/README.md", "```go", "main.go", []string{"cents", "positive", "tags"}},
	{"rust", "sdk/rust/README.md", "```rust", "src/lib.rs", []string{"cents", "positive", "tags"}},
	{"c", "sdk/c/README.md", "```c", "udf.c", []string{"cents", "positive"}},
	{"as", "sdk/assemblyscript/README.md", "```ts", "assembly/index.ts", []string{"cents", "positive", "tags"}},
}

// TestREADMEExampleInNewProject: weir udf new, paste the README's example,
// make, weir udf test.
func TestREADMEExampleInNewProject(t *testing.T) {
	bin := weirBin(t)
	root := repoRoot(t)
	for _, l := range languages {
		t.Run(l.lang, func(t *testing.T) {
			readme, err := os.ReadFile(filepath.Join(root, l.readme))
			if err != nil {
				t.Fatal(err)
			}
			example := exampleOf(t, string(readme), l.fence)
			dir := t.TempDir()
			name := "readme-" + l.lang
			run(t, dir, nil, bin, "udf", "new", "--lang", l.lang, "--sdk", filepath.Join(root, "sdk"), name)
			project := filepath.Join(dir, name)
			if err := os.WriteFile(filepath.Join(project, filepath.FromSlash(l.file)), []byte(example), 0o644); err != nil {
				t.Fatal(err)
			}
			// Offline: no module proxy, no npm registry (the project's Makefile
			// installs its npm dependencies with --offline).
			start := time.Now()
			run(t, project, []string{"GOPROXY=off"}, "make")
			t.Logf("%s: built in %v", l.lang, time.Since(start).Round(time.Millisecond))
			if err := os.WriteFile(filepath.Join(project, "in.jsonl"), []byte(sampleInput), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, fn := range l.functions {
				want := exampleOutputs[fn]
				got := run(t, project, nil, bin, "udf", "test", name+".wasm", "--function", fn, "--input", "in.jsonl", "--format", "payload")
				if got != want {
					t.Errorf("%s: weir udf test --function %s:\n got %s\nwant %s", l.lang, fn, got, want)
				}
			}
			// The record form keeps the key of the input record.
			got := run(t, project, nil, bin, "udf", "test", name+".wasm", "--function", "positive", "--input", "in.jsonl")
			if !strings.HasPrefix(got, `{"payload":{"id":1,`) {
				t.Errorf("%s: record form: %s", l.lang, got)
			}
		})
	}
}

// exampleOf returns the first fenced block opened by fence after the README's
// "## Example" heading.
func exampleOf(t *testing.T, readme, fence string) string {
	_, after, ok := strings.Cut(readme, "\n## Example\n")
	if !ok {
		t.Fatalf("the README has no \"## Example\" section")
	}
	_, body, ok := strings.Cut(after, fence+"\n")
	if !ok {
		t.Fatalf("the README's example has no %s block", fence)
	}
	code, _, ok := strings.Cut(body, "\n```")
	if !ok {
		t.Fatalf("the README's %s block is not closed", fence)
	}
	return code + "\n"
}

// run runs a command in dir and returns its standard output, failing the test
// (with its standard error) if it fails.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "WEIR_CACHE_DIR="+cacheDir(t)), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s (in %s): %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), dir, err, stdout.String(), stderr.String())
	}
	return stdout.String()
}
