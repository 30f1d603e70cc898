package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"
	"time"

	"github.com/spf13/cobra"

	"github.com/weir-streams/weir/internal/record"
	"github.com/weir-streams/weir/wasmhost"
)

// newUDFCmd returns `weir udf`: tools for UDF authors that need no cluster.
func newUDFCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "udf",
		Short: "Scaffold and test UDF modules locally",
		Long: "Tools for writing user-defined functions: `weir udf new` makes a project in\n" +
			"Go, Rust, C or AssemblyScript; `weir udf test` runs a module on sample records.",
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf(c, "unknown command %q for %q", args[0], c.CommandPath())
			}
			return nil
		},
		RunE: func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErrorf(c, "%w", err) })
	cmd.AddCommand(newUDFNewCmd(), newUDFTestCmd())
	return finishGroup(cmd)
}

// ---------------------------------------------------------------- weir udf new

// udfLanguage is a language `weir udf new` scaffolds.
type udfLanguage struct {
	name string // as on the command line
	long string // for people
	// sdk is the SDK's directory under Weir's sdk directory, and marker a file
	// that must be in it.
	sdk, marker string
}

var udfLanguages = []udfLanguage{
	{"go", "Go", "go", "go.mod"},
	{"rust", "Rust", "rust", "Cargo.toml"},
	{"c", "C", "c", "weir.h"},
	{"as", "AssemblyScript", "assemblyscript", "package.json"},
}

func findLanguage(name string) (udfLanguage, bool) {
	for _, l := range udfLanguages {
		if l.name == name {
			return l, true
		}
	}
	return udfLanguage{}, false
}

// udfTemplates holds a directory per language and the files every project gets.
// Files ending in .tmpl are text/template with [[ ]] delimiters (so that Go,
// Make and C braces stay as they are); the suffix is dropped.
//
//go:embed all:udftemplates
var udfTemplates embed.FS

// projectName is what NAME may be: it names the directory, the module and the
// function, in every language.
var projectName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,63}$`)

const sdkHelp = `Where the SDKs are: the sdk directory of a Weir checkout, which holds ABI.md
and one directory per language. --sdk DIR (or WEIR_SDK) names it; without it, weir
looks next to its own binary (BIN/../sdk, as for bin/weir in a checkout, and
BIN/../share/weir/sdk), then in the current directory and each parent (DIR/sdk).
The project refers to the SDK by absolute path, so it builds without the network.`

func newUDFNewCmd() *cobra.Command {
	var lang, sdkFlag string
	cmd := &cobra.Command{
		Use:   "new --lang go|rust|c|as NAME",
		Short: "Make a UDF project in ./NAME that builds offline",
		Long: "Make a UDF project in ./NAME: a starter map function called NAME, a Makefile\n" +
			"that builds NAME.wasm (`make`) and tries it on sample.jsonl (`make test`), and a\n" +
			"README. NAME is 1-64 characters of [A-Za-z0-9_-], starting with a letter.\n\n" + sdkHelp,
		Example: "  weir udf new --lang go clicks\n  weir udf new --lang as --sdk ~/weir/sdk clicks",
		Args:    argsNamed("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			l, ok := findLanguage(lang)
			if !ok {
				return usageErrorf(cmd, "--lang %q: want go, rust, c or as", lang)
			}
			if !projectName.MatchString(name) {
				return usageErrorf(cmd, "NAME %q: want 1-64 characters of [A-Za-z0-9_-], starting with a letter", name)
			}
			sdkRoot, err := findSDK(sdkFlag)
			if err != nil {
				return err
			}
			sdkDir := filepath.Join(sdkRoot, l.sdk)
			if _, err := os.Stat(filepath.Join(sdkDir, l.marker)); err != nil {
				return fmt.Errorf("the %s SDK is not in %s (no %s there): this checkout may predate it", l.long, sdkDir, l.marker)
			}
			dir, err := filepath.Abs(name)
			if err != nil {
				return err
			}
			if err := scaffold(dir, l, sdkDir, name); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Made %s: a UDF project in %s, using the SDK in %s.\n", dir, l.long, sdkDir)
			if l.name == "as" {
				if _, err := os.Stat(filepath.Join(sdkDir, "node_modules", ".bin", "asc")); err != nil {
					fmt.Fprintf(w, "Note: the AssemblyScript compiler is not installed in %s: run `make deps` in the\nWeir checkout (or `npm ci` there) before building.\n", sdkDir)
				}
			}
			fmt.Fprintf(w, "Build it with: cd %s && make && make test\n", name)
			return nil
		},
	}
	cmd.Flags().StringVar(&lang, "lang", "", "language: go, rust, c or as (AssemblyScript)")
	cmd.Flags().StringVar(&sdkFlag, "sdk", "", "the sdk directory of a Weir checkout (env WEIR_SDK; default: found, see above)")
	_ = cmd.MarkFlagRequired("lang")
	return cmd
}

// findSDK returns the absolute path of Weir's sdk directory: flag if set, else
// the first candidate that holds ABI.md.
func findSDK(flag string) (string, error) {
	if flag != "" {
		dir, err := filepath.Abs(flag)
		if err != nil {
			return "", err
		}
		if _, err := os.Stat(filepath.Join(dir, "ABI.md")); err != nil {
			return "", fmt.Errorf("--sdk %s: not Weir's sdk directory (it has no ABI.md)", flag)
		}
		return dir, nil
	}
	var candidates []string
	if exe, err := os.Executable(); err == nil {
		if exe, err := filepath.EvalSymlinks(exe); err == nil {
			bin := filepath.Dir(exe)
			candidates = append(candidates, filepath.Join(bin, "..", "sdk"), filepath.Join(bin, "..", "share", "weir", "sdk"))
		}
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			candidates = append(candidates, filepath.Join(d, "sdk"))
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	for _, c := range candidates {
		if _, err := os.Stat(filepath.Join(c, "ABI.md")); err == nil {
			return filepath.Abs(c)
		}
	}
	return "", errors.New("cannot find Weir's SDKs: pass --sdk DIR (the sdk directory of a Weir checkout) or set WEIR_SDK; " +
		"looked next to the weir binary and in the current directory and its parents")
}

// projectData is what the templates see.
type projectData struct {
	Name, Lang, LangName string
	// Func is the registered function's name; GoFunc, ASFunc, RustFunc and
	// CFunc the identifier of its implementation.
	Func, GoFunc, ASFunc, RustFunc, CFunc string
	// SDKDir is the language's SDK directory, absolute.
	SDKDir string
	// Weir is the weir binary the Makefile's test target runs.
	Weir string
}

// scaffold writes the project of language l into dir, which must not exist or
// be empty.
func scaffold(dir string, l udfLanguage, sdkDir, name string) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s already exists and is not empty", dir)
	}
	weirBin := "weir"
	if exe, err := os.Executable(); err == nil {
		weirBin = exe
	}
	camel := camelCase(name)
	data := projectData{
		Name: name, Lang: l.name, LangName: l.long,
		Func: name, GoFunc: camel, ASFunc: camel,
		RustFunc: strings.ReplaceAll(strings.ToLower(name), "-", "_"),
		CFunc:    strings.ReplaceAll(name, "-", "_"),
		SDKDir:   sdkDir, Weir: weirBin,
	}
	files := map[string]string{} // path in dir -> template path
	for _, common := range []string{"README.md.tmpl", "sample.jsonl"} {
		files[strings.TrimSuffix(common, ".tmpl")] = "udftemplates/" + common
	}
	root := "udftemplates/" + l.name
	err := fs.WalkDir(udfTemplates, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files[strings.TrimSuffix(strings.TrimPrefix(p, root+"/"), ".tmpl")] = p
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading the %s templates: %w", l.long, err)
	}
	for out, src := range files {
		text, err := udfTemplates.ReadFile(src)
		if err != nil {
			return err
		}
		if strings.HasSuffix(src, ".tmpl") {
			t, err := template.New(src).Delims("[[", "]]").Option("missingkey=error").Parse(string(text))
			if err != nil {
				return fmt.Errorf("parsing template %s: %w", src, err)
			}
			var b strings.Builder
			if err := t.Execute(&b, data); err != nil {
				return fmt.Errorf("expanding template %s: %w", src, err)
			}
			text = []byte(b.String())
		}
		p := filepath.Join(dir, filepath.FromSlash(out))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("creating the project: %w", err)
		}
		if err := os.WriteFile(p, text, 0o644); err != nil {
			return fmt.Errorf("creating the project: %w", err)
		}
	}
	return nil
}

// camelCase turns a project name into an identifier: my-udf_x is myUdfX.
func camelCase(name string) string {
	var b strings.Builder
	up := false
	for _, c := range name {
		switch {
		case c == '-' || c == '_':
			up = b.Len() > 0
		case up:
			b.WriteString(strings.ToUpper(string(c)))
			up = false
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// ---------------------------------------------------------------- weir udf test

const udfTestLong = `Run a UDF module locally through Weir's Wasm host on sample records and print
its outputs, one a line. No cluster is needed.

Input (--input FILE, or standard input): one record a line, a JSON object with
any of these members:
  "key"              the key: a JSON string is its UTF-8 text; an object or array is
                     its JSON text as written
  "key_base64"       the key as base64 (for binary keys)
  "timestamp"        the event time, integer milliseconds since the Unix epoch
  "payload"          the payload, read as "key" is
  "payload_base64"   the payload as base64
  "headers"          an object of name: value strings (a value may be an array of
                     strings for a repeated name), in the order written
Any other line (a line that is not such an object, or any line with --raw) is
taken whole as a payload: a file of JSON documents, one a line, is a valid input.
Blank lines are skipped.

Output: each output of the main output (side outputs are not shown) as one line in
the same form, so that it can be fed back: a payload or key that is a JSON object or
array on one line is written as it is, other valid UTF-8 as a JSON string, anything
else as base64; members absent from the output record are left out. With
--format payload only the payloads are printed, as they are, one a line.

The records go to the function in batches of --batch records; --config is the step's
config (a JSON object) given to the function's open hook. A UDF error or trap ends
the command with status 1 and the UDF's message.`

func newUDFTestCmd() *cobra.Command {
	var (
		fn, input, config, format, cacheDir string
		raw                                 bool
		batchSize                           int
		timeout                             time.Duration
	)
	cmd := &cobra.Command{
		Use:   "test MODULE.wasm --function F [--input records.jsonl] [--config JSON]",
		Short: "Run a UDF on sample records and print its outputs",
		Long:  udfTestLong,
		Example: "  weir udf test orders.wasm --function enrich --input orders.jsonl\n" +
			"  echo '{\"amount\":12}' | weir udf test orders.wasm --function enrich --config '{\"factor\":3}'",
		Args: argsNamed("MODULE.wasm"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if fn == "" {
				return usageErrorf(cmd, "--function is required")
			}
			if format != "record" && format != "payload" {
				return usageErrorf(cmd, "--format %q: want record or payload", format)
			}
			if batchSize < 1 {
				return usageErrorf(cmd, "--batch must be at least 1")
			}
			in := cmd.InOrStdin()
			if input != "" && input != "-" {
				f, err := os.Open(input)
				if err != nil {
					return fmt.Errorf("opening input: %w", err)
				}
				defer f.Close()
				in = f
			}
			return runUDFTest(cmd.Context(), udfTestOptions{
				module: args[0], function: fn, config: config, raw: raw,
				payloadOnly: format == "payload", batch: batchSize, timeout: timeout, cacheDir: cacheDir,
			}, in, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&fn, "function", "", "the function to run (required)")
	cmd.Flags().StringVar(&input, "input", "", "JSON lines of records (default: standard input)")
	cmd.Flags().StringVar(&config, "config", "{}", "the step's config, a JSON object")
	cmd.Flags().StringVar(&format, "format", "record", "output form: record (JSON lines as the input) or payload (raw payloads)")
	cmd.Flags().BoolVar(&raw, "raw", false, "take every input line whole as a payload")
	cmd.Flags().IntVar(&batchSize, "batch", 1024, "records per batch (per guest call)")
	cmd.Flags().DurationVar(&timeout, "call-timeout", 10*time.Second, "time limit of one guest call")
	cmd.Flags().StringVar(&cacheDir, "cache-dir", udfTestCacheDir(), "where compiled modules are kept between runs (env WEIR_CACHE_DIR; empty: none)")
	return cmd
}

type udfTestOptions struct {
	module, function, config string
	raw, payloadOnly         bool
	batch                    int
	timeout                  time.Duration
	cacheDir                 string
}

// runUDFTest loads the module, opens the function with the config, runs the
// input through it batch by batch and writes the outputs to out. Guest logs go
// to errOut.
func runUDFTest(ctx context.Context, o udfTestOptions, in io.Reader, out, errOut io.Writer) error {
	if ctx == nil {
		ctx = context.Background()
	}
	wasm, err := os.ReadFile(o.module)
	if err != nil {
		return fmt.Errorf("reading module: %w", err)
	}
	// Guest logs and output, without timestamps: this is a terminal, not a worker's log.
	logger := slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	rt, err := wasmhost.NewRuntime(ctx, wasmhost.Options{CacheDir: o.cacheDir, MaxConcurrentCalls: 1, Logger: logger})
	if err != nil {
		return err
	}
	defer rt.Close(context.Background())
	sum := sha256.Sum256(wasm)
	mod, err := rt.Load(ctx, "sha256:"+hex.EncodeToString(sum[:]), wasm)
	if err != nil {
		return fmt.Errorf("loading %s: %w", o.module, err)
	}
	f := mod.Description.Function(o.function)
	if f == nil {
		var names []string
		for _, d := range mod.Description.Functions {
			names = append(names, d.Name+" ("+d.Kind+")")
		}
		return fmt.Errorf("%s has no function %q; it has %s", o.module, o.function, strings.Join(names, ", "))
	}
	if !wasmhost.Executable(f.Kind) {
		return fmt.Errorf("function %q is a %s, which this version of Weir cannot run yet", f.Name, f.Kind)
	}
	switch f.Kind {
	case wasmhost.KindAggregate, wasmhost.KindWindowProcess, wasmhost.KindTrigger, wasmhost.KindEvictor:
		return fmt.Errorf("function %q is a %s: it runs on windows, not on records, so `weir udf test` cannot feed it; run it in a window step (docs/event-time.md)", f.Name, f.Kind)
	case wasmhost.KindCoProcess:
		return fmt.Errorf("function %q is a co_process: it reads two inputs, so `weir udf test` cannot feed it; run it in a co_process step (docs/streams.md)", f.Name)
	}
	inst, err := mod.Instantiate(ctx, o.function, wasmhost.Limits{CallTimeout: o.timeout}, logger)
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			_ = inst.Close(context.Background(), false)
		}
	}()
	// Keyed state lives in memory for the run: a process or reduce function sees
	// its state across the input's batches, per record key.
	inst.SetKeyedState(&wasmhost.MemoryState{})
	inst.SetTaskInfo([]byte(`{"job_id":"udf-test","job_name":"udf-test","step":"` + o.function + `","subtask":0,"parallelism":1,"max_parallelism":128,"attempt":1}`))
	if err := inst.Open(ctx, []byte(o.config)); err != nil {
		return err
	}
	bw := bufio.NewWriter(out)
	defer bw.Flush()
	var (
		batch record.Batch
		line  []byte
		n     int
	)
	flush := func() error {
		if batch.Len() == 0 {
			return nil
		}
		res, err := inst.Process(ctx, &batch)
		if err != nil {
			return err
		}
		r := res.Reader()
		var v record.View
		for r.Next(&v) {
			if o.payloadOnly {
				line = append(append(line[:0], v.Payload...), '\n')
			} else if line, err = appendRecordLine(line[:0], &v); err != nil {
				return err
			}
			if _, err := bw.Write(line); err != nil {
				return err
			}
		}
		if err := r.Err(); err != nil {
			return err
		}
		batch.Reset()
		return nil
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	batch.Reset()
	for sc.Scan() {
		n++
		text := sc.Bytes()
		if len(strings.TrimSpace(string(text))) == 0 {
			continue
		}
		var v record.View
		if err := parseRecordLine(text, o.raw, &v); err != nil {
			return fmt.Errorf("input line %d: %w", n, err)
		}
		batch.Append(&v)
		if batch.Len() >= o.batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading input: %w", err)
	}
	if err := flush(); err != nil {
		return err
	}
	closed = true
	return inst.Close(ctx, true)
}

// udfTestCacheDir is the default of --cache-dir: where compiled modules are kept
// between runs (a module is then compiled once, not at every run), or "" for none.
func udfTestCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "weir", "wasm")
}
