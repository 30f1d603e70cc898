package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/weir-streams/weir/internal/client"
)

// multiVertexSpec chains nothing across its rebalance edges: source (1) ->
// enrich+positive (2) -> sink (1), three vertices and two edges. The enrich step is
// left out: the test inserts it with the module picker after line 7.
const multiVertexSpec = `name: ui-orders
parallelism: 2
pipeline:
  - id: orders
    source:
      jetstream: { stream: ORDERS }
    parallelism: 1
  - id: positive
    filter: { module: orders, function: positive }
  - id: spread
    partition: rebalance
  - id: out
    sink:
      jetstream: { subject: orders.out }
    parallelism: 1
`

const enrichStep = "  - id: enrich\n    map: { module: orders, function: enrich }\n"

func withEnrich(spec string) string {
	lines := strings.SplitAfter(spec, "\n")
	return strings.Join(lines[:7], "") + enrichStep + strings.Join(lines[7:], "")
}

// setEditor puts text into the spec editor as typing would, and the cursor at the
// end of line cursorLine (1-based).
func setEditor(b *browser, text string, cursorLine int) {
	b.t.Helper()
	eval[chromedp.Void](b, fmt.Sprintf(`(() => {
		const e = document.getElementById("spec-editor");
		e.value = %q;
		e.dispatchEvent(new Event("input"));
		const lines = e.value.split("\n");
		let pos = 0;
		for (let i = 0; i < %d; i++) pos += lines[i].length + (i ? 1 : 0);
		e.focus();
		e.setSelectionRange(pos, pos);
	})()`, text, cursorLine))
}

func TestModulesPage(t *testing.T) {
	w := startWeir(t)
	b := newBrowser(t, w.url)

	b.open("#/modules")
	b.waitFor(10*time.Second, `document.querySelector("main .empty")?.textContent.includes("No modules yet")`, `document.querySelector("main").innerText`)
	b.screenshot("modules-empty")

	b.do(30*time.Second, chromedp.SetUploadFiles(chromedp.CSS("#module-file"), []string{wasmFile(t, "orders.wasm")}))
	b.waitFor(10*time.Second, `document.getElementById("module-name").value === "orders" && !document.getElementById("upload-module").disabled`, `document.querySelector("form").innerText`)
	b.do(10*time.Second, chromedp.Click(chromedp.ID("upload-module")))
	b.waitFor(90*time.Second, `document.getElementById("upload-ok")`, `document.getElementById("upload-status").innerText`)
	b.waitFor(10*time.Second, `document.querySelector('#modules-table tr[data-module="orders"]')`, `document.querySelector("main").innerText`)

	m, err := w.client.GetModule(context.Background(), "orders")
	require.NoError(t, err)
	row := b.text(`#modules-table tr[data-module="orders"]`)
	for _, f := range m.Functions {
		require.Contains(t, row, f.Name+" "+f.Kind, "the modules table lists every function with its kind")
	}
	require.Contains(t, row, m.Digest[:19], "the modules table shows the digest")
	b.screenshot("modules-uploaded")

	// A file dropped on the upload area is taken as chosen; a file that is no
	// Wasm module is refused with the server's reason.
	b.allow(`status of 400 .*/api/v1/modules`)
	eval[chromedp.Void](b, `(() => {
		const dt = new DataTransfer();
		dt.items.add(new File(["not wasm"], "broken.wasm", { type: "application/wasm" }));
		document.querySelector(".dropzone").dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
	})()`)
	b.waitFor(10*time.Second, `document.getElementById("module-name").value === "broken"`, `document.querySelector("form").innerText`)
	b.do(10*time.Second, chromedp.Click(chromedp.ID("upload-module")))
	b.waitFor(30*time.Second, `document.querySelector("#upload-status .error")`, `document.getElementById("upload-status").innerText`)
	_, err = w.client.UploadModule(context.Background(), "broken", strings.NewReader("not wasm"))
	var apiErr *client.APIError
	require.True(t, errors.As(err, &apiErr))
	require.Equal(t, "Upload failed: "+apiErr.Message, b.text("#upload-status .error"))
	b.screenshot("modules-refused")

	// Delete it again: nothing uses it.
	b.do(10*time.Second, chromedp.Click(chromedp.CSS(`button[data-module="orders"]`)))
	b.waitFor(5*time.Second, `document.querySelector('button[data-module="orders"]')?.textContent === "Confirm delete"`, `document.querySelector("main").innerText`)
	b.do(10*time.Second, chromedp.Click(chromedp.CSS(`button[data-module="orders"]`)))
	b.waitFor(10*time.Second, `document.getElementById("modules-notice").textContent === "Deleted orders."`, `document.querySelector("main").innerText`)
	b.waitFor(10*time.Second, `!document.querySelector('#modules-table tr[data-module="orders"]')`, `document.querySelector("main").innerText`)
}

func TestJobLifecycle(t *testing.T) {
	w := startWeir(t)
	w.upload("orders", "orders.wasm")
	w.stream("ORDERS", "orders.in")
	w.stream("OUT", "orders.out")
	b := newBrowser(t, w.url)

	// Submit from the submit page, inserting the enrich step with the module picker.
	b.open("#/submit")
	b.waitFor(10*time.Second, `[...document.querySelectorAll("#module-picker option")].some(o => o.textContent === "orders.enrich — map")`, `document.getElementById("module-picker").innerText`)
	setEditor(b, multiVertexSpec, 7)
	b.do(10*time.Second, chromedp.SetValue(chromedp.ID("module-picker"), `{"module":"orders","fn":"enrich","kind":"map"}`))
	b.do(10*time.Second, chromedp.Click(chromedp.ID("insert-step")))
	require.Equal(t, withEnrich(multiVertexSpec), eval[string](b, `document.getElementById("spec-editor").value`), "the picker inserts the step after the cursor's line")
	b.waitFor(30*time.Second, `document.getElementById("spec-ok")?.textContent.includes("3 vertices, 2 edges")`, `document.getElementById("spec-result").innerText`)
	b.screenshot("submit-valid")
	b.do(10*time.Second, chromedp.Click(chromedp.ID("submit-job")))
	b.waitFor(30*time.Second, `/^#\/jobs\/[0-9a-f]+$/.test(location.hash)`, `location.hash + " " + document.getElementById("spec-result").innerText`)
	id := strings.TrimPrefix(eval[string](b, `location.hash`), "#/jobs/")

	// RUNNING, with the DAG of the API's plan.
	b.waitFor(60*time.Second, `document.querySelector("#job-status [data-status]")?.dataset.status === "RUNNING"`, `document.getElementById("job-status").innerText`)
	job := w.job(id)
	require.Equal(t, "RUNNING", job.Status)
	require.Len(t, job.Plan.Vertices, 3, "the spec makes three vertices")
	b.waitFor(10*time.Second, `document.querySelectorAll("#job-dag .dag-node").length > 0`, `document.getElementById("job-dag").innerHTML`)
	require.Equal(t, len(job.Plan.Vertices), eval[int](b, `document.querySelectorAll("#job-dag .dag-node").length`), "DAG nodes")
	require.Equal(t, len(job.Plan.Edges), eval[int](b, `document.querySelectorAll("#job-dag .dag-edge").length`), "DAG edges")
	var want, got []string
	for _, e := range job.Plan.Edges {
		want = append(want, e.From+">"+e.To+":"+e.Partitioning)
	}
	got = eval[[]string](b, `[...document.querySelectorAll("#job-dag .dag-edge")].map(e => e.dataset.from + ">" + e.dataset.to + ":" + e.dataset.partitioning)`)
	sort.Strings(want)
	sort.Strings(got)
	require.Equal(t, want, got, "DAG edges and their partitioning")
	for _, v := range job.Plan.Vertices {
		node := b.text(fmt.Sprintf(`#job-dag .dag-node[data-vertex=%q]`, v.ID))
		require.Contains(t, node, "×"+strconv.Itoa(v.Parallelism), "vertex %s shows its parallelism", v.ID)
		for _, s := range v.Steps {
			require.Contains(t, node, s.ID, "vertex %s lists its chained step %s", v.ID, s.ID)
		}
	}

	// Two successive reads of the record counter differ while records flow.
	feedCtx, stopFeed := context.WithCancel(context.Background())
	fed := w.feed(feedCtx, "orders.in")
	first := b.text("#job-records")
	b.waitFor(60*time.Second, fmt.Sprintf(`document.getElementById("job-records").textContent.trim() !== %q`, first), `document.getElementById("job-records").textContent`)
	second := b.text("#job-records")
	require.Greater(t, leadingInt(t, second), leadingInt(t, first), "records read: %q then %q", first, second)
	// Let the rate charts fill before the screenshot.
	b.waitFor(60*time.Second, `[...document.querySelectorAll("#job-dag .dag-rates")].every(e => !e.textContent.startsWith("0/s in"))`, `[...document.querySelectorAll("#job-dag .dag-rates")].map(e => e.textContent).join("; ")`)
	shot := b.screenshot("job-running")
	if p := os.Getenv("WEIR_UI_DOCS_SCREENSHOT"); p != "" {
		b.waitFor(60*time.Second, `[...document.querySelectorAll("#job-dag .dag-spark")].every(e => Number(e.dataset.samples) >= 30)`, `[...document.querySelectorAll("#job-dag .dag-spark")].map(e => e.dataset.samples).join(",")`)
		shot = b.screenshot("job-running-docs")
		buf, err := os.ReadFile(shot)
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, buf, 0o644))
		t.Logf("wrote %s", p)
	}

	// The graph's nodes are reachable by keyboard: Tab to the first, Enter opens
	// its subtasks.
	for i := 0; !eval[bool](b, `document.activeElement?.classList.contains("dag-link") ?? false`); i++ {
		require.Less(t, i, 40, "Tab never reaches a node of the job graph")
		b.do(5*time.Second, chromedp.KeyEvent("\t"))
	}
	vertex := eval[string](b, `document.activeElement.querySelector(".dag-node").dataset.vertex`)
	b.do(5*time.Second, chromedp.KeyEvent("\r"))
	b.waitFor(10*time.Second, fmt.Sprintf(`location.hash === %q && document.querySelector("#subtasks-table tbody tr")`, "#/jobs/"+id+"/subtasks?vertex="+vertex), `location.hash`)
	require.Equal(t, vertex, eval[string](b, `document.getElementById("vertex-filter").value`))

	// The other tabs, each at its own URL.
	b.open("#/jobs/" + id + "/subtasks")
	b.waitFor(10*time.Second, `document.querySelectorAll("#subtasks-table tbody tr").length === 4`, `document.querySelector("main").innerText`)
	b.open("#/jobs/" + id + "/configuration")
	b.waitFor(10*time.Second, `document.getElementById("pinned-modules")`, `document.querySelector("main").innerText`)
	require.Contains(t, b.text("#pinned-modules"), job.Modules["orders"], "the configuration tab shows the pinned digest")
	require.Contains(t, b.text(".code-view"), "function: enrich", "the configuration tab shows the submitted spec")
	b.open("#/jobs/" + id + "/exceptions")
	b.waitFor(10*time.Second, `document.querySelector("#tab-exceptions .empty")?.textContent.includes("No exceptions")`, `document.querySelector("main").innerText`)
	b.open("#/jobs/" + id + "/checkpoints")
	b.waitFor(10*time.Second, `document.querySelector("#checkpoints .empty")?.textContent.includes("This job takes no checkpoints")`, `document.querySelector("main").innerText`)

	// A module in use cannot be deleted: the page shows the server's 409 message.
	var apiErr *client.APIError
	require.True(t, errors.As(w.client.DeleteModule(context.Background(), "orders"), &apiErr))
	require.Equal(t, 409, apiErr.Status)
	b.allow(`status of 409 .*/api/v1/modules/orders`)
	b.open("#/modules")
	b.waitFor(10*time.Second, `document.querySelector('button[data-module="orders"]')`, `document.querySelector("main").innerText`)
	b.do(10*time.Second, chromedp.Click(chromedp.CSS(`button[data-module="orders"]`)), chromedp.Click(chromedp.CSS(`button[data-module="orders"]`)))
	b.waitFor(10*time.Second, fmt.Sprintf(`document.getElementById("modules-notice").textContent === %q`, "Cannot delete orders: "+apiErr.Message), `document.getElementById("modules-notice").textContent`)
	b.screenshot("module-in-use")

	// Cancel from the job page.
	b.open("#/jobs/" + id)
	b.waitFor(10*time.Second, `document.getElementById("cancel-job")`, `document.querySelector("main").innerText`)
	b.do(10*time.Second, chromedp.Click(chromedp.ID("cancel-job")), chromedp.WaitVisible(chromedp.ID("confirm-cancel")))
	b.screenshot("cancel-dialog")
	b.do(10*time.Second, chromedp.Click(chromedp.ID("confirm-cancel")))
	b.waitFor(60*time.Second, `document.querySelector("#job-status [data-status]")?.dataset.status === "CANCELED"`, `document.getElementById("job-status").innerText`)
	require.Equal(t, "CANCELED", w.job(id).Status)
	require.Equal(t, 0, eval[int](b, `document.querySelectorAll("#cancel-job").length`), "a canceled job offers no cancel")
	b.screenshot("job-canceled")
	stopFeed()
	require.NoError(t, <-fed)
}

var leadingIntRE = regexp.MustCompile(`^[0-9,]+`)

func leadingInt(t *testing.T, s string) int {
	t.Helper()
	m := leadingIntRE.FindString(s)
	require.NotEmpty(t, m, "no number at the start of %q", s)
	n, err := strconv.Atoi(strings.ReplaceAll(m, ",", ""))
	require.NoError(t, err)
	return n
}

func TestSpecErrorAtLine(t *testing.T) {
	w := startWeir(t)
	w.upload("orders", "orders.wasm")
	bad := strings.Replace(withEnrich(multiVertexSpec), "function: positive", "fnction: positive", 1)
	_, err := w.client.SubmitJob(context.Background(), []byte(bad), true)
	var apiErr *client.APIError
	require.True(t, errors.As(err, &apiErr), "the bad spec is refused: %v", err)
	require.Equal(t, 11, apiErr.Line, "the typo is on line 11")

	b := newBrowser(t, w.url)
	b.allow(`status of 400 .*/api/v1/jobs\?dry_run=true`)
	b.open("#/submit")
	setEditor(b, bad, 1)
	b.do(10*time.Second, chromedp.Click(chromedp.ID("validate-job")))
	b.waitFor(30*time.Second, `document.getElementById("spec-error")`, `document.getElementById("spec-result").innerText`)
	require.Equal(t, strconv.Itoa(apiErr.Line), eval[string](b, `document.getElementById("spec-error").dataset.line`))
	require.Equal(t, apiErr.Message, b.text("#spec-error .spec-error-msg"), "the server's message")
	require.Contains(t, b.text("#spec-error"), fmt.Sprintf("Line %d, column %d:", apiErr.Line, apiErr.Column))
	require.Equal(t, []string{strconv.Itoa(apiErr.Line)}, eval[[]string](b, `[...document.querySelectorAll(".gutter .ln-err")].map(e => e.dataset.line)`), "the gutter marks the line")
	// The band over the text sits on that line.
	top := eval[float64](b, `document.querySelector(".err-band").getBoundingClientRect().top - document.getElementById("spec-editor").getBoundingClientRect().top`)
	lh := eval[float64](b, `parseFloat(getComputedStyle(document.getElementById("spec-editor")).lineHeight)`)
	pad := eval[float64](b, `parseFloat(getComputedStyle(document.getElementById("spec-editor")).paddingTop)`)
	require.InDelta(t, pad+float64(apiErr.Line-1)*lh, top, 1.5, "the error band is on line %d", apiErr.Line)
	b.screenshot("spec-error")

	// "Line 11, column N:" moves the cursor there.
	b.do(10*time.Second, chromedp.Click(chromedp.CSS("#spec-error button")))
	require.Equal(t, apiErr.Line, eval[int](b, `(() => { const e = document.getElementById("spec-editor"); return e.value.slice(0, e.selectionStart).split("\n").length; })()`))

	// Fixing it clears the error.
	setEditor(b, withEnrich(multiVertexSpec), 1)
	b.waitFor(30*time.Second, `document.getElementById("spec-ok") && !document.querySelector(".gutter .ln-err")`, `document.getElementById("spec-result").innerText`)
}

func TestNarrowWindow(t *testing.T) {
	w := startWeir(t)
	w.upload("orders", "orders.wasm")
	w.stream("ORDERS", "orders.in")
	w.stream("OUT", "orders.out")
	res, err := w.client.SubmitJob(context.Background(), []byte(withEnrich(multiVertexSpec)), false)
	require.NoError(t, err)
	b := newBrowser(t, w.url)
	b.do(10*time.Second, chromedp.EmulateViewport(400, 860))

	b.open("#/jobs/" + res.ID)
	b.waitFor(60*time.Second, `document.querySelector("#job-status [data-status]")?.dataset.status === "RUNNING" && document.querySelectorAll("#job-dag .dag-node").length === 3`, `document.querySelector("main").innerText`)
	require.True(t, eval[bool](b, `!!document.querySelector("#job-dag svg.dag-vertical")`), "a narrow window draws the DAG top to bottom")
	b.noHorizontalScroll("the job page at 400 px")
	b.screenshot("job-400px")

	job := "#/jobs/" + res.ID
	for _, p := range [][2]string{{"#/", "overview"}, {"#/jobs", "jobs"}, {job + "/subtasks", "subtasks"}, {job + "/configuration", "configuration"},
		{job + "/checkpoints", "checkpoints"}, {"#/submit", "submit"}, {"#/modules", "modules"}, {"#/savepoints", "savepoints"}, {"#/workers", "workers"}} {
		b.open(p[0])
		b.waitFor(10*time.Second, `!document.querySelector("main").innerText.includes("Loading…")`, `document.querySelector("main").innerText`)
		b.noHorizontalScroll(p[0] + " at 400 px")
		b.screenshot(p[1] + "-400px")
	}
}

func TestEmptyStatesAndKeyboard(t *testing.T) {
	w := startWeir(t)
	b := newBrowser(t, w.url)

	b.open("#/")
	b.waitFor(10*time.Second, `document.querySelector(".getting-started")`, `document.querySelector("main").innerText`)
	start := b.text(".getting-started")
	require.Contains(t, start, "Upload a Wasm module")
	require.Contains(t, start, "Write and submit a job")
	b.screenshot("overview-new-user")
	b.open("#/jobs")
	b.waitFor(10*time.Second, `document.querySelector("main .empty")?.textContent.includes("No jobs yet")`, `document.querySelector("main").innerText`)
	b.open("#/workers")
	b.waitFor(10*time.Second, `document.querySelector("#workers-table")?.textContent.includes("standalone-worker")`, `document.querySelector("main").innerText`)
	b.open("#/no-such-page")
	require.Contains(t, b.text("main h1"), "Page not found")
	b.open("#/savepoints")
	b.waitFor(10*time.Second, `document.querySelector("main .empty")?.textContent.includes("No savepoints yet")`, `document.querySelector("main").innerText`)
	b.open("#/jobs/0123456789abcdef")
	b.waitFor(10*time.Second, `document.querySelector("main .empty")?.textContent.includes("There is no job with id 0123456789abcdef")`, `document.querySelector("main").innerText`)

	// Keyboard: Tab from the top reaches every main navigation link, in order, and
	// Enter follows one. A fresh load, so focus starts at the top of the page.
	b.do(10*time.Second, chromedp.Navigate("about:blank"))
	b.open("#/")
	var seen []string
	for range 9 {
		b.do(5*time.Second, chromedp.KeyEvent("\t"))
		seen = append(seen, eval[string](b, `document.activeElement.textContent.trim()`))
	}
	require.Subset(t, seen, []string{"Overview", "Jobs", "Submit", "Modules", "Savepoints", "Workers"}, "Tab order: %q", seen)
	b.do(10*time.Second, chromedp.Navigate("about:blank"))
	b.open("#/")
	for i := 0; eval[string](b, `document.activeElement.textContent.trim()`) != "Modules"; i++ {
		require.Less(t, i, 10, "Tab never reaches the Modules link")
		b.do(5*time.Second, chromedp.KeyEvent("\t"))
	}
	b.do(5*time.Second, chromedp.KeyEvent("\r"))
	b.waitFor(10*time.Second, `location.hash === "#/modules" && document.querySelector("main h1")?.textContent === "Modules"`, `location.hash`)
}

func TestExceptionsTab(t *testing.T) {
	w := startWeir(t)
	w.upload("trap", "testdata/trap.wasm")
	w.stream("IN", "in.>")
	w.stream("OUT", "out.>")
	res, err := w.client.SubmitJob(context.Background(), []byte(`name: trapping
pipeline:
  - id: in
    source:
      jetstream: { stream: IN }
  - id: boom
    map: { module: trap, function: trap }
  - id: out
    sink:
      jetstream: { subject: out.trap }
`), false)
	require.NoError(t, err)
	_, err = w.js.Publish(context.Background(), "in.a", []byte(`{"id":1}`))
	require.NoError(t, err)

	b := newBrowser(t, w.url)
	b.open("#/jobs/" + res.ID + "/exceptions")
	b.waitFor(2*time.Minute, `document.querySelector("#job-status [data-status]")?.dataset.status === "FAILED" && document.querySelector(".exc-stack")`, `document.querySelector("main").innerText`)
	ex, err := w.client.JobExceptions(context.Background(), res.ID)
	require.NoError(t, err)
	require.NotEmpty(t, ex.Exceptions)
	last := ex.Exceptions[len(ex.Exceptions)-1]
	require.NotEmpty(t, last.Stack, "a trap carries its Wasm stack")
	require.Equal(t, last.Message, b.text(".exception .exc-message"), "the newest exception's message comes first")
	require.Equal(t, strings.TrimSpace(last.Stack), b.text(".exception .exc-stack"))
	require.Equal(t, strconv.Itoa(len(ex.Exceptions)), b.text("#exception-count"))
	require.Contains(t, b.text(".reason-box"), last.Message[:min(len(last.Message), 20)], "the job's reason is shown")
	b.screenshot("exceptions")

	b.open("#/jobs")
	b.waitFor(10*time.Second, `document.querySelector('table.jobs [data-status="FAILED"]')`, `document.querySelector("main").innerText`)
}

// countJob counts records per key with the Go counter example (a process UDF with
// a value state), checkpointing every 500 ms.
const countJob = `name: counts
parallelism: 2
checkpointing: { interval: 500ms }
pipeline:
  - id: events
    source:
      jetstream: { stream: CNT, subjects: ["cnt.*"], partitions: { count: 3, token: 2 } }
  - id: by-key
    key_by: { json_field: key }
  - id: count
    process: { module: counter, function: count }
  - id: out
    sink: { jetstream: { subject: counts } }
`

// plainJob has no checkpointing section.
const plainJob = `name: plain
pipeline:
  - id: in
    source: { jetstream: { stream: IN } }
  - id: enrich
    map: { module: orders, function: enrich }
  - id: out
    sink: { jetstream: { subject: out.plain } }
`

// startCounts sets up the counter's module and streams, submits countJob and
// publishes keyed records to it until the test ends.
func startCounts(t *testing.T, w *weir) string {
	t.Helper()
	w.upload("counter", "counter.wasm")
	w.stream("CNT", "cnt.*")
	w.stream("COUT", "counts")
	res, err := w.client.SubmitJob(context.Background(), []byte(countJob), false)
	require.NoError(t, err)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { stop(); <-done })
	go func() {
		defer close(done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			k := i % 7
			if _, err := w.js.Publish(ctx, fmt.Sprintf("cnt.%d", k%3), fmt.Appendf(nil, `{"key":"k%d","seq":%d}`, k, i/7+1)); err != nil && ctx.Err() == nil {
				t.Errorf("publishing: %v", err)
				return
			}
		}
	}()
	return res.ID
}

// tabTo presses Tab until the element with id has focus.
func tabTo(t *testing.T, b *browser, id string, most int) {
	t.Helper()
	for i := 0; eval[string](b, `document.activeElement?.id ?? ""`) != id; i++ {
		require.Less(t, i, most, "Tab never reaches #%s; focus is on %s", id, eval[string](b, `document.activeElement?.outerHTML.slice(0, 120) ?? ""`))
		b.do(5*time.Second, chromedp.KeyEvent("\t"))
	}
}

// TestCheckpointsTab shows a checkpointed job's checkpoints, each expandable by
// keyboard to its subtasks' figures, and its restores; a job without
// checkpointing says how to get them and offers no savepoint.
func TestCheckpointsTab(t *testing.T) {
	w := startWeir(t)
	id := startCounts(t, w)
	w.upload("orders", "orders.wasm")
	w.stream("IN", "in.>")
	w.stream("OUT", "out.>")
	res, err := w.client.SubmitJob(context.Background(), []byte(plainJob), false)
	require.NoError(t, err)
	plain := res.ID

	b := newBrowser(t, w.url)
	b.open("#/jobs/" + id + "/checkpoints")
	b.waitFor(time.Minute, `document.querySelector("#checkpoints-table [data-status=COMPLETED]") && document.querySelector("#restores li")`, `document.querySelector("main").innerText`)
	l, err := w.client.Checkpoints(context.Background(), id)
	require.NoError(t, err)
	require.True(t, l.Enabled)
	require.Contains(t, b.text("#checkpoint-summary"), "Latest completed:")
	require.Regexp(t, `[1-9][0-9]* completed`, b.text("#checkpoint-summary"))
	require.Equal(t, "Attempt 1 → no checkpoint (a fresh start)", strings.Split(b.text("#restores li"), " · ")[0])
	ids := eval[[]int](b, `[...document.querySelectorAll("#checkpoints-table tr[data-checkpoint]")].map(r => Number(r.dataset.checkpoint))`)
	require.True(t, sort.SliceIsSorted(ids, func(i, j int) bool { return ids[i] > ids[j] }), "newest first: %v", ids)

	// Expand a completed checkpoint with the keyboard: its subtasks' figures show.
	ck := eval[string](b, `document.querySelector("#checkpoints-table tr:has([data-status=COMPLETED])").dataset.checkpoint`)
	b.do(5*time.Second, chromedp.Navigate("about:blank"))
	b.open("#/jobs/" + id + "/checkpoints")
	b.waitFor(30*time.Second, fmt.Sprintf(`document.querySelector('#checkpoints-table tr[data-checkpoint="%s"] button.expander')`, ck), `document.querySelector("main").innerText`)
	eval[chromedp.Void](b, `(() => { const e = document.querySelector("main h1"); e.tabIndex = -1; e.focus(); })()`)
	tabTo(t, b, "take-savepoint", 10)
	for i := 0; eval[string](b, `document.activeElement?.dataset.key ?? ""`) != "ck-"+ck; i++ {
		require.Less(t, i, 80, "Tab never reaches checkpoint %s's expander", ck)
		b.do(5*time.Second, chromedp.KeyEvent("\t"))
	}
	b.do(5*time.Second, chromedp.KeyEvent("\r"))
	b.waitFor(10*time.Second, fmt.Sprintf(`document.querySelectorAll("#ck-sub-%s tbody tr").length > 0`, ck), `document.querySelector("#checkpoints").innerText`)
	// Polling (newer checkpoints arrive) keeps the row open and the focus on its button.
	top := eval[int](b, `Number(document.querySelector("#checkpoints-table tr[data-checkpoint]").dataset.checkpoint)`)
	b.waitFor(30*time.Second, fmt.Sprintf(`Number(document.querySelector("#checkpoints-table tr[data-checkpoint]").dataset.checkpoint) > %d`, top), `document.querySelector("#checkpoints").innerText`)
	b.waitFor(10*time.Second, fmt.Sprintf(`document.activeElement?.dataset.key === "ck-%s" && document.activeElement.getAttribute("aria-expanded") === "true"`, ck), `document.activeElement?.outerHTML`)
	sub := b.text(fmt.Sprintf("#ck-sub-%s tbody tr", ck))
	require.Regexp(t, `ms`, sub, "a subtask's alignment, sync and async times")
	b.screenshot("checkpoints-expanded")

	// Without checkpointing: a plain explanation, and no savepoint.
	b.open("#/jobs/" + plain + "/checkpoints")
	b.waitFor(30*time.Second, `document.querySelector("#checkpoints .empty")?.textContent.includes("This job takes no checkpoints")`, `document.querySelector("main").innerText`)
	require.Contains(t, b.text("#checkpoints .empty"), "checkpointing:")
	for _, btn := range []string{"take-savepoint", "stop-savepoint", "rescale-job"} {
		require.True(t, eval[bool](b, fmt.Sprintf(`document.getElementById(%q).disabled`, btn)), "#%s is disabled", btn)
	}
	require.Contains(t, b.text("#actions-why"), "need checkpointing")
	b.screenshot("checkpoints-off")
}

// TestSavepointActions takes a savepoint, rescales (after a refused parallelism)
// and stops with a savepoint from the job page, by keyboard where it matters,
// and lists and deletes savepoints on the savepoints page.
func TestSavepointActions(t *testing.T) {
	w := startWeir(t)
	id := startCounts(t, w)
	ctx := context.Background()
	b := newBrowser(t, w.url)
	b.allow(`status of 400 .*/api/v1/jobs/[0-9a-f]+/rescale`)

	b.open("#/jobs/" + id)
	b.waitFor(time.Minute, `document.getElementById("take-savepoint") && !document.getElementById("take-savepoint").disabled`, `document.querySelector(".actions").innerText`)
	// The new controls are reachable with Tab, in order.
	eval[chromedp.Void](b, `(() => { const e = document.querySelector("main h1"); e.tabIndex = -1; e.focus(); })()`)
	var order []string
	for range 5 {
		b.do(5*time.Second, chromedp.KeyEvent("\t"))
		order = append(order, eval[string](b, `document.activeElement.id`))
	}
	require.Equal(t, []string{"take-savepoint", "stop-savepoint", "rescale-job", "cancel-job"}, order[:4], "Tab order")

	// Take a savepoint with the keyboard: its status is followed until COMPLETED.
	eval[chromedp.Void](b, `document.getElementById("take-savepoint").focus()`)
	b.do(5*time.Second, chromedp.KeyEvent("\r"))
	b.waitFor(time.Minute, `document.querySelector("#savepoint-status [data-status=COMPLETED]")`, `document.querySelector(".actions").innerText`)
	sps, err := w.client.Savepoints(ctx)
	require.NoError(t, err)
	require.Len(t, sps.Savepoints, 1)
	first := sps.Savepoints[0]
	require.Equal(t, "COMPLETED", first.Status)
	require.Equal(t, first.ID, eval[string](b, `document.getElementById("savepoint-status").dataset.savepoint`))
	b.screenshot("savepoint-completed")

	// Rescale: the server's refusal shows next to the field; then 3 is taken.
	tabTo(t, b, "rescale-job", 10)
	b.do(5*time.Second, chromedp.KeyEvent("\r"))
	b.waitFor(5*time.Second, `document.activeElement?.id === "rescale-parallelism"`, `document.activeElement?.outerHTML`)
	b.do(10*time.Second, chromedp.SetValue(chromedp.ID("rescale-parallelism"), "100000"), chromedp.Click(chromedp.ID("confirm-rescale")))
	b.waitFor(10*time.Second, `document.getElementById("rescale-error").textContent !== ""`, `document.querySelector(".actions").innerText`)
	var apiErr *client.APIError
	_, err = w.client.RescaleJob(ctx, id, 100000, nil)
	require.True(t, errors.As(err, &apiErr), "parallelism 100000 is refused: %v", err)
	require.Equal(t, 400, apiErr.Status)
	require.Equal(t, apiErr.Field+": "+apiErr.Message, b.text("#rescale-error"))
	require.Equal(t, "true", eval[string](b, `document.getElementById("rescale-parallelism").getAttribute("aria-invalid")`))
	b.screenshot("rescale-refused")
	b.do(10*time.Second, chromedp.SetValue(chromedp.ID("rescale-parallelism"), "3"), chromedp.Click(chromedp.ID("confirm-rescale")))
	b.waitFor(2*time.Minute, `document.querySelector("#savepoint-status [data-status=COMPLETED]") && document.getElementById("savepoint-status").textContent.startsWith("Rescale")`, `document.querySelector(".actions").innerText`)
	require.Eventually(t, func() bool {
		j := w.job(id)
		return j.Status == "RUNNING" && j.Plan.Vertices[0].Parallelism == 3
	}, 2*time.Minute, 200*time.Millisecond, "the job runs again at parallelism 3")
	b.waitFor(time.Minute, `document.querySelector("#job-status [data-status]")?.dataset.status === "RUNNING" && document.getElementById("take-savepoint")?.disabled === false`, `document.querySelector(".page-head").innerText`)

	// The savepoints page lists both; the first is deleted after a confirmation.
	sps, err = w.client.Savepoints(ctx)
	require.NoError(t, err)
	require.Len(t, sps.Savepoints, 2)
	b.open("#/savepoints")
	b.waitFor(10*time.Second, `document.querySelectorAll("#savepoints-table tbody tr").length === 2`, `document.querySelector("main").innerText`)
	for _, sp := range sps.Savepoints {
		row := b.text(fmt.Sprintf(`#savepoints-table tr[data-savepoint=%q]`, sp.ID))
		require.Contains(t, row, "counts")
		require.Contains(t, row, sp.Status)
	}
	require.Equal(t, "page", eval[string](b, `document.querySelector('nav a[href="#/savepoints"]').getAttribute("aria-current")`))
	b.screenshot("savepoints")
	del := fmt.Sprintf(`button[data-savepoint=%q]`, first.ID)
	b.do(10*time.Second, chromedp.Focus(chromedp.CSS(del)))
	b.do(5*time.Second, chromedp.KeyEvent("\r"))
	b.waitFor(5*time.Second, fmt.Sprintf(`document.querySelector(%q)?.textContent === "Confirm delete"`, del), `document.querySelector("main").innerText`)
	b.do(5*time.Second, chromedp.KeyEvent("\r"))
	b.waitFor(10*time.Second, fmt.Sprintf(`document.getElementById("savepoints-notice").textContent === %q`, "Deleted "+first.ID+"."), `document.querySelector("main").innerText`)
	b.waitFor(10*time.Second, `document.querySelectorAll("#savepoints-table tbody tr").length === 1`, `document.querySelector("main").innerText`)
	_, err = w.client.Savepoint(ctx, first.ID)
	require.True(t, errors.As(err, &apiErr) && apiErr.Status == 404, "the deleted savepoint is gone: %v", err)

	// Stop with a savepoint, after a confirmation: the job ends FINISHED and the
	// buttons go.
	b.open("#/jobs/" + id)
	b.waitFor(time.Minute, `document.getElementById("stop-savepoint")?.disabled === false`, `document.querySelector(".actions").innerText`)
	b.do(10*time.Second, chromedp.Click(chromedp.ID("stop-savepoint")), chromedp.WaitVisible(chromedp.ID("confirm-stop")))
	b.screenshot("stop-dialog")
	b.do(10*time.Second, chromedp.Click(chromedp.ID("confirm-stop")))
	b.waitFor(2*time.Minute, `document.querySelector("#savepoint-status [data-status=COMPLETED]") && document.querySelector("#job-status [data-status]")?.dataset.status === "FINISHED"`, `document.querySelector(".page-head").innerText`)
	require.Equal(t, 0, eval[int](b, `document.querySelectorAll("#take-savepoint, #stop-savepoint, #rescale-job, #cancel-job").length`), "an ended job offers no action")
	b.screenshot("stopped")
}

// TestWatermarks shows the event-time clocks of an event-time job on its
// subtasks page and in its graph's vertex table: a time once records with
// timestamps have arrived, "—" for none.
func TestWatermarks(t *testing.T) {
	w := startWeir(t)
	w.stream("EV", "ev.>")
	w.stream("EVOUT", "evout")
	const spec = `name: ui-event-time
pipeline:
  - id: events
    source: { jetstream: { stream: EV } }
    timestamps: { json_field: ts }
  - id: by-user
    key_by: { json_field: user }
  - id: counts
    window: { tumbling: 10s }
    aggregate: { builtin: count }
  - id: out
    sink: { jetstream: { subject: evout } }
`
	res, err := w.client.SubmitJob(context.Background(), []byte(spec), false)
	require.NoError(t, err)
	// 2023-11-14T22:13:20Z and after: the watermark is the largest less 1 ms.
	for i := range 20 {
		_, err := w.js.Publish(context.Background(), "ev.x", fmt.Appendf(nil, `{"user":"u%d","ts":%d}`, i%3, 1_700_000_000_000+int64(i)*1000))
		require.NoError(t, err)
	}
	b := newBrowser(t, w.url)
	b.open("#/jobs/" + res.ID + "/subtasks")
	b.waitFor(time.Minute, `[...document.querySelectorAll("#subtasks-table tbody tr")].filter(r => r.innerText.includes("2023-11-14")).length === 2`, `document.querySelector("main").innerText`)
	rows := b.text("#subtasks-table tbody")
	require.NotContains(t, rows, "Invalid", "every watermark cell is a time or a dash")
	j := w.job(res.ID)
	for _, v := range j.Plan.Vertices {
		for _, st := range v.Subtasks {
			require.NotNil(t, st.Watermark, "vertex %s has a watermark", v.ID)
			require.Equal(t, int64(1_700_000_019_000-1), *st.Watermark, "vertex %s", v.ID)
		}
	}
	b.screenshot("watermarks")
}
