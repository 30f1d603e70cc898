package ui

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/weir-streams/weir/internal/client"
)

// chromiumPath is Debian's Chromium, which `make deps` installs.
const chromiumPath = "/usr/bin/chromium"

func repoRoot() string {
	wd, _ := os.Getwd()
	return filepath.Join(wd, "..", "..", "..")
}

// built returns a file that `make build examples` makes, from the environment
// variable env (set by the Makefile) or the default place under the repository.
func built(t testing.TB, env, def string) string {
	dir := os.Getenv(env)
	p := filepath.Join(repoRoot(), def)
	if dir != "" {
		p = dir
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s not found: run `make build examples` (make test does)", p)
	}
	return p
}

func wasmFile(t testing.TB, name string) string {
	dir := built(t, "WEIR_TEST_WASM_DIR", filepath.Join("build", "wasm"))
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("module %s not found: run `make examples` (make test does)", p)
	}
	return p
}

// weir is a running `weir standalone`.
type weir struct {
	t      testing.TB
	url    string
	client *client.Client
	js     jetstream.JetStream

	mu  sync.Mutex
	log strings.Builder // guarded by mu
}

var (
	httpAddrRE = regexp.MustCompile(`http=(http://[0-9.:]+)`)
	natsAddrRE = regexp.MustCompile(`nats=(nats://[0-9.:]+)`)
)

// startWeir starts weir standalone on free ports and stops it (SIGKILL) when the
// test ends.
func startWeir(t testing.TB) *weir {
	t.Helper()
	cmd := exec.Command(built(t, "WEIR_TEST_BIN", filepath.Join("bin", "weir")),
		"standalone", "--data-dir", t.TempDir(), "--http", "127.0.0.1:0", "--nats-port", "0", "--sync", "interval")
	cmd.Env = append(os.Environ(), "GOMAXPROCS=2")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	w := &weir{t: t}
	exited := make(chan struct{})
	addrs := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var httpURL, natsURL string
		for sc.Scan() {
			line := sc.Text()
			w.mu.Lock()
			w.log.WriteString(line + "\n")
			w.mu.Unlock()
			if m := httpAddrRE.FindStringSubmatch(line); m != nil {
				httpURL = m[1]
			}
			if m := natsAddrRE.FindStringSubmatch(line); m != nil {
				natsURL = m[1]
			}
			if strings.Contains(line, "weir standalone ready") {
				addrs <- [2]string{httpURL, natsURL}
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	var a [2]string
	select {
	case a = <-addrs:
	case <-exited:
		t.Fatalf("weir standalone exited at start:\n%s", w.logs())
	case <-time.After(60 * time.Second):
		t.Fatalf("weir standalone not ready after 60s:\n%s", w.logs())
	}
	w.url = a[0]
	w.client = client.New(w.url, &http.Client{Timeout: 60 * time.Second})
	nc, err := nats.Connect(a[1])
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	w.js, err = jetstream.New(nc)
	require.NoError(t, err)
	return w
}

func (w *weir) logs() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.log.String()
}

func (w *weir) upload(name, file string) {
	w.t.Helper()
	f, err := os.Open(wasmFile(w.t, file))
	require.NoError(w.t, err)
	defer f.Close()
	_, err = w.client.UploadModule(context.Background(), name, f)
	require.NoError(w.t, err)
}

func (w *weir) stream(name, subject string) {
	w.t.Helper()
	_, err := w.js.CreateStream(context.Background(), jetstream.StreamConfig{Name: name, Subjects: []string{subject}})
	require.NoError(w.t, err)
}

func (w *weir) job(id string) *client.Job {
	w.t.Helper()
	j, err := w.client.GetJob(context.Background(), id)
	require.NoError(w.t, err)
	return j
}

// feed publishes records to subject until ctx ends.
func (w *weir) feed(ctx context.Context, subject string) <-chan error {
	done := make(chan error, 1)
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		// A sawtooth from 5 to 33 records a tick over 20 s, so the rate charts
		// show a shape.
		for i, n := 0, 0; ; n++ {
			select {
			case <-ctx.Done():
				done <- nil
				return
			case <-tick.C:
			}
			for range 5 + n%200/7 {
				if _, err := w.js.Publish(ctx, subject, fmt.Appendf(nil, `{"id":%d,"amount":%d,"user":"u%d"}`, i, i%7-3, i%13)); err != nil {
					if ctx.Err() != nil {
						done <- nil
					} else {
						done <- err
					}
					return
				}
				i++
			}
		}
	}()
	return done
}

// browser is one headless Chromium tab whose console is watched.
type browser struct {
	t    testing.TB
	ctx  context.Context
	base string
	dir  string

	mu      sync.Mutex
	allowed []*regexp.Regexp // guarded by mu
	bad     []string         // guarded by mu
	shots   int              // guarded by mu
}

// newBrowser starts Chromium for the test, and fails the test at its end when the
// page logged a console error or threw, except for messages allowed with allow.
func newBrowser(t *testing.T, baseURL string) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("Chromium not found at %s: run `make deps` (apt-get install -y chromium fonts-liberation)", chromiumPath)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	b := &browser{t: t, ctx: ctx, base: baseURL, dir: artifactDir(t)}
	// Start the browser now, with no deadline: the deadline of the first Run
	// would bind the browser's life.
	require.NoError(t, chromedp.Do(ctx))
	msgs := chromedp.Console(ctx)
	consoleDone := make(chan struct{})
	go func() {
		defer close(consoleDone)
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type != chromedp.ConsoleError && m.Type != chromedp.ConsoleException {
				continue
			}
			line := fmt.Sprintf("%s %s (%s:%d)", m.Type, m.Text, m.URL, m.Line+1)
			b.mu.Lock()
			ok := false
			for _, re := range b.allowed {
				ok = ok || re.MatchString(line)
			}
			if !ok {
				b.bad = append(b.bad, line)
			}
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = chromedp.Cancel(ctx)
		cancelCtx()
		cancelAlloc()
		<-consoleDone
		b.mu.Lock()
		defer b.mu.Unlock()
		if len(b.bad) > 0 {
			t.Errorf("the page logged %d console errors:\n%s", len(b.bad), strings.Join(b.bad, "\n"))
		}
	})
	return b
}

// artifactDir is where screenshots go: $WEIR_UI_ARTIFACTS/<test>, or a
// temporary directory of the test.
func artifactDir(t *testing.T) string {
	dir := t.TempDir()
	if root := os.Getenv("WEIR_UI_ARTIFACTS"); root != "" {
		dir = filepath.Join(root, strings.ReplaceAll(t.Name(), "/", "_"))
		require.NoError(t, os.MkdirAll(dir, 0o755))
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// allow accepts console errors matching re: the HTTP errors a test provokes.
func (b *browser) allow(re string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.allowed = append(b.allowed, regexp.MustCompile(re))
}

// do runs steps with a deadline.
func (b *browser) do(timeout time.Duration, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	require.NoError(b.t, chromedp.Do(ctx, steps...))
}

// open loads the UI at a hash route ("#/modules") and waits for its heading.
func (b *browser) open(route string) {
	b.t.Helper()
	b.do(30*time.Second, chromedp.Navigate(b.base+"/"+route), chromedp.WaitVisible(chromedp.CSS("main h1")))
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(b.t, err, "evaluating %s", expr)
	return v
}

// waitFor polls a JavaScript expression until it is truthy, and fails the test
// with what describe evaluates to when it does not become so in time.
func (b *browser) waitFor(timeout time.Duration, expr, describe string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		got := eval[string](b, describe)
		b.t.Fatalf("waiting for %s: %v; the page shows: %s", expr, err, got)
	}
}

// screenshot saves the whole page as <dir>/<n>-<name>.png and returns the path.
func (b *browser) screenshot(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(b.t, err)
	b.mu.Lock()
	b.shots++
	n := b.shots
	b.mu.Unlock()
	p := filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", n, name))
	require.NoError(b.t, os.WriteFile(p, buf, 0o644))
	return p
}

// noHorizontalScroll fails the test when the page is wider than the window.
func (b *browser) noHorizontalScroll(what string) {
	b.t.Helper()
	got := eval[[]int](b, `[document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]`)
	require.LessOrEqual(b.t, got[0], got[2], "%s scrolls horizontally: document %dpx wide in a %dpx window", what, got[0], got[2])
	require.LessOrEqual(b.t, got[1], got[2], "%s scrolls horizontally: body %dpx wide in a %dpx window", what, got[1], got[2])
}

// text is the trimmed text content of the first element matching a CSS selector.
func (b *browser) text(css string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`(document.querySelector(%q)?.textContent ?? "").trim()`, css))
}
