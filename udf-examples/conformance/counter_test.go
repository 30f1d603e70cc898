package conformance_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"github.com/weir-streams/weir/wasmhost"
)

// The keyed-state examples (udf-examples/README.md, "The counter functions"):
// every language's count through Weir's host with an in-memory state store, on
// the same batches, against the definition and against each other.

// countTaskInfo is what weir.task_info returns in these tests (sdk/ABI.md §4.3).
const countTaskInfo = `{"job_id":"j-conformance","job_name":"counts","step":"count","subtask":0,` +
	`"parallelism":1,"max_parallelism":128,"attempt":3}`

// loadFile compiles and validates one module file once.
func loadFile(t testing.TB, name, file string) *wasmhost.Module {
	t.Helper()
	rt := runtime(t)
	host.mu.Lock()
	defer host.mu.Unlock()
	if m, ok := host.modules[file]; ok {
		return m
	}
	bin, err := os.ReadFile(filepath.Join(wasmDir(), file))
	if err != nil {
		t.Fatalf("%s: %v (build it with `make examples`; `make conformance` does)", name, err)
	}
	m, err := rt.Load(context.Background(), file, bin)
	if err != nil {
		t.Fatalf("%s: loading %s: %v", name, file, err)
	}
	host.modules[file] = m
	return m
}

// openKeyed instantiates function fn of file with state st and the task info of
// these tests, and opens it.
func openKeyed(t testing.TB, name, file, fn string, st wasmhost.KeyedState) *wasmhost.Instance {
	t.Helper()
	inst, err := loadFile(t, name, file).Instantiate(context.Background(), fn, wasmhost.Limits{}, nil)
	if err != nil {
		t.Fatalf("%s: instantiating %s: %v", name, fn, err)
	}
	t.Cleanup(func() { inst.Close(context.Background(), false) })
	inst.SetKeyedState(st)
	inst.SetTaskInfo([]byte(countTaskInfo))
	if err := inst.Open(context.Background(), []byte("{}")); err != nil {
		t.Fatalf("%s: opening %s: %v", name, fn, err)
	}
	return inst
}

// counterLanguages are the rows of languages that have a counter module.
func counterLanguages() []language {
	var ls []language
	for _, l := range languages {
		if l.counter != "" {
			ls = append(ls, l)
		}
	}
	return ls
}

// countOracle is count's definition: a count per record key, and the output
// payload from the payload's members key and seq.
type countOracle struct{ counts map[string]int64 }

func (o *countOracle) want(in []rec) []rec {
	out := make([]rec, len(in))
	for i, r := range in {
		o.counts[r.Key]++
		p := []byte(r.Payload)
		key := "null"
		if s, e, ok := member(p, "key"); ok {
			key = string(p[s:e])
		}
		seq := "null"
		if s, e, ok := member(p, "seq"); ok && (p[s] == '-' || '0' <= p[s] && p[s] <= '9') {
			seq = string(p[s:e])
		}
		out[i] = r
		out[i].Payload = `{"key":` + key + `,"seq":` + seq + `,"count":` + strconv.FormatInt(o.counts[r.Key], 10) + `,"attempt":3}`
	}
	return out
}

// countBatches are the batches every count runs, in order: hand-written cases
// first (one key several times in one batch, keys of every JSON type, member
// texts with spaces and escapes, missing and non-number seq, binary payloads,
// an empty batch), then generated batches over a few keys, so that counts go on
// across batches.
func countBatches() [][]rec {
	keyed := func(key, payload string) rec { return rec{HasKey: true, Key: key, Payload: payload} }
	batches := [][]rec{
		{
			keyed(`"a"`, `{"key":"a","seq":1}`),
			keyed(`"b"`, `{"key":"b","seq":2}`),
			keyed(`"a"`, `{"key":"a","seq":3}`),
			keyed(`"a"`, `{"seq":4, "key" : "a"}`),
			keyed(`17`, `{"key":17,"seq":5}`),
			keyed(`null`, `{"seq":6}`),
			keyed(`{"x":[1,2]}`, `{"key": {"x": [1, 2]} ,"seq":7}`),
			keyed(`"\u00e9"`, `{"key":"\u00e9","seq":-8.5e1}`),
			keyed(`"é 🚀"`, `{"key":"é 🚀","seq":"9"}`),
			keyed(`true`, `{"key":true}`),
			keyed("\x00\xff", "\x00\xff{not json"),
			keyed(`"a"`, `{"key":"a","seq":10,"extra":{"seq":0}}`),
		},
		{},
		{
			keyed(`"b"`, `{"key":"b","seq":11}`),
			keyed(`"a"`, `{"key":"a","seq":12}`),
			keyed(`"b"`, `{"key":"b","seq":13}`),
		},
	}
	// Inherited fields ride along: timestamps and headers on some records.
	for i := range batches[0] {
		d := dress(i, "")
		batches[0][i].HasTS, batches[0][i].TS = d.HasTS, d.TS
		batches[0][i].HasHeaders, batches[0][i].Headers = d.HasHeaders, d.Headers
	}
	rng := rand.New(rand.NewPCG(7, 11))
	seq := 100
	for b := 0; b < 40; b++ {
		batch := make([]rec, rng.IntN(30))
		for i := range batch {
			k := strconv.Quote(fmt.Sprintf("k%d", rng.IntN(6)))
			batch[i] = keyed(k, fmt.Sprintf(`{"key":%s,"seq":%d}`, k, seq))
			seq++
		}
		batches = append(batches, batch)
	}
	return batches
}

// TestCount: every language's count gives the definition's outputs, the same
// for all, over batches that carry counts from one to the next; a new instance
// on the same state store (a subtask restarted from its state) continues them.
func TestCount(t *testing.T) {
	batches := countBatches()
	results := map[string][][]rec{}
	for _, lang := range counterLanguages() {
		t.Run(lang.name, func(t *testing.T) {
			var st wasmhost.MemoryState
			oracle := countOracle{counts: map[string]int64{}}
			inst := openKeyed(t, lang.name, lang.counter, "count", &st)
			var all [][]rec
			for i, in := range batches {
				if i == len(batches)/2 {
					inst = openKeyed(t, lang.name, lang.counter, "count", &st)
				}
				got := process(t, lang.name, inst, in)
				compare(t, fmt.Sprintf("%s batch %d", lang.name, i), in, got, oracle.want(in))
				all = append(all, got)
			}
			results[lang.name] = all
		})
	}
	// The languages agree with one another, output for output.
	var first string
	for _, lang := range counterLanguages() {
		got, ok := results[lang.name]
		if !ok {
			continue
		}
		if first == "" {
			first = lang.name
			continue
		}
		if !reflect.DeepEqual(got, results[first]) {
			t.Errorf("%s and %s disagree", lang.name, first)
		}
	}
}

// TestCountWithoutState: on a host without keyed state, count fails the call with
// an error that says so, in every language.
func TestCountWithoutState(t *testing.T) {
	for _, lang := range counterLanguages() {
		t.Run(lang.name, func(t *testing.T) {
			inst := openKeyed(t, lang.name, lang.counter, "count", nil)
			_, err := inst.Process(context.Background(), batchOf([]rec{{HasKey: true, Key: "k", Payload: `{"key":"k","seq":1}`}}))
			var ce *wasmhost.CallError
			const want = `weir: reading state "count": the host does not support keyed state (UNSUPPORTED)`
			if !errors.As(err, &ce) || ce.Kind != wasmhost.FailureError || ce.Message != want {
				t.Fatalf("got %v, want a CallError of kind error: %s", err, want)
			}
		})
	}
}

// TestSum: the Go module's sum, a reduce function: a key's first record is its
// running sum as it is, later ones add their amount, several records of one key
// chain within a batch, and a payload without an integer amount fails the call.
func TestSum(t *testing.T) {
	var st wasmhost.MemoryState
	inst := openKeyed(t, "go", "counter.wasm", "sum", &st)
	keyed := func(key, payload string) rec {
		return rec{HasKey: true, Key: key, Payload: payload, HasTS: true, TS: 5}
	}
	payloads := func(rs []rec) []string {
		var p []string
		for _, r := range rs {
			if !r.HasKey || !r.HasTS || r.TS != 5 {
				t.Errorf("output %v does not inherit its input's key and timestamp", r)
			}
			p = append(p, r.Payload)
		}
		return p
	}
	in := []rec{keyed("a", `{"amount": 5}`), keyed("b", `{"amount":1}`), keyed("a", `{"amount":-2}`), keyed("a", `{"amount":10,"x":1}`)}
	if got, want := payloads(process(t, "sum", inst, in)), []string{`{"amount": 5}`, `{"amount":1}`, `{"amount":3}`, `{"amount":13}`}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	in = []rec{keyed("b", `{"amount":100}`), keyed("a", `{"amount":0}`)}
	if got, want := payloads(process(t, "sum", inst, in)), []string{`{"amount":101}`, `{"amount":13}`}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	_, err := inst.Process(context.Background(), batchOf([]rec{keyed("a", `{"amount":"7"}`)}))
	var ce *wasmhost.CallError
	if !errors.As(err, &ce) || ce.Kind != wasmhost.FailureError || ce.Message != `sum: the payload "{\"amount\":\"7\"}" has no integer amount` {
		t.Errorf("got %v", err)
	}
}
