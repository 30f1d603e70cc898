package conformance_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/weir-streams/weir/internal/record"
	"github.com/weir-streams/weir/wasmhost"
)

// ------------------------------------------------------------------ the host

var host struct {
	once    sync.Once
	rt      *wasmhost.Runtime
	err     error
	mu      sync.Mutex
	modules map[string]*wasmhost.Module
}

// runtime is one wasmhost runtime for the whole test binary, its compilation
// cache in WEIR_TEST_WASM_CACHE when set (as make sets it).
func runtime(t testing.TB) *wasmhost.Runtime {
	t.Helper()
	host.once.Do(func() {
		host.rt, host.err = wasmhost.NewRuntime(context.Background(), wasmhost.Options{CacheDir: os.Getenv("WEIR_TEST_WASM_CACHE")})
		host.modules = map[string]*wasmhost.Module{}
	})
	if host.err != nil {
		t.Fatal(host.err)
	}
	return host.rt
}

func wasmDir() string {
	if d := os.Getenv("WEIR_TEST_WASM_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "build", "wasm")
}

// load compiles and validates a language's module once.
func load(t testing.TB, lang language) *wasmhost.Module {
	t.Helper()
	rt := runtime(t)
	host.mu.Lock()
	defer host.mu.Unlock()
	if m, ok := host.modules[lang.module]; ok {
		return m
	}
	bin, err := os.ReadFile(filepath.Join(wasmDir(), lang.module))
	if err != nil {
		t.Fatalf("%s: %v (build it with `make examples`; `make conformance` does)", lang.name, err)
	}
	m, err := rt.Load(context.Background(), lang.module, bin)
	if err != nil {
		t.Fatalf("%s: loading %s: %v", lang.name, lang.module, err)
	}
	host.modules[lang.module] = m
	return m
}

// open instantiates function fn of a language's module and opens it with config.
func open(t testing.TB, lang language, fn, config string) *wasmhost.Instance {
	t.Helper()
	inst, err := load(t, lang).Instantiate(context.Background(), fn, wasmhost.Limits{}, nil)
	if err != nil {
		t.Fatalf("%s: instantiating %s: %v", lang.name, fn, err)
	}
	t.Cleanup(func() { inst.Close(context.Background(), false) })
	if err := inst.Open(context.Background(), []byte(config)); err != nil {
		t.Fatalf("%s: opening %s with %s: %v", lang.name, fn, config, err)
	}
	return inst
}

// ------------------------------------------------------------------ records

// rec is a record with every field spelled out, for comparisons.
type rec struct {
	HasKey     bool
	Key        string
	HasTS      bool
	TS         int64
	Payload    string
	HasHeaders bool
	Headers    [][2]string
}

func (r rec) String() string {
	return fmt.Sprintf("{key %v %q ts %v %d payload %s headers %v %q}", r.HasKey, r.Key, r.HasTS, r.TS, trim(r.Payload), r.HasHeaders, r.Headers)
}

func trim(s string) string {
	if len(s) > 80 {
		return strconv.Quote(s[:60]) + fmt.Sprintf("...(%d bytes)", len(s))
	}
	return strconv.Quote(s)
}

func (r rec) view() record.View {
	v := record.View{Flags: record.FlagPayload, Payload: []byte(r.Payload)}
	if r.HasKey {
		v.Flags |= record.FlagKey
		v.Key = []byte(r.Key)
	}
	if r.HasTS {
		v.Flags |= record.FlagTimestamp
		v.Timestamp = r.TS
	}
	if r.HasHeaders {
		v.Flags |= record.FlagHeaders
		for _, h := range r.Headers {
			v.Headers = record.AppendHeader(v.Headers, h[0], h[1])
		}
		v.HeaderCount = uint32(len(r.Headers))
	}
	return v
}

func fromView(t testing.TB, v *record.View) rec {
	r := rec{HasKey: v.HasKey(), Key: string(v.Key), HasTS: v.HasTimestamp(), TS: v.Timestamp,
		Payload: string(v.Payload), HasHeaders: v.HasHeaders()}
	if err := v.ForEachHeader(func(n, val []byte) error {
		r.Headers = append(r.Headers, [2]string{string(n), string(val)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return r
}

// dress gives the i-th record of a batch a mix of keys, timestamps and headers
// (binary ones among them), so that every comparison also checks that outputs
// inherit them.
func dress(i int, payload string) rec {
	r := rec{Payload: payload}
	switch i % 4 {
	case 1:
		r.HasKey, r.Key = true, fmt.Sprintf("customer-%d", i)
	case 2:
		r.HasKey, r.Key = true, "\x00\xffkey"
		r.HasHeaders, r.Headers = true, [][2]string{{"trace", fmt.Sprint(i)}, {"bin", "\xfe\x00"}, {"trace", "again"}}
	case 3:
		r.HasHeaders, r.Headers = true, nil // present, with no header
	}
	if i%3 != 0 {
		r.HasTS, r.TS = true, 1_700_000_000_000+int64(i)
	}
	if i == 5 {
		r.TS = -9 // before the epoch
	}
	return r
}

func batchOf(recs []rec) *record.Batch {
	var b record.Batch
	b.Reset()
	for _, r := range recs {
		v := r.view()
		b.Append(&v)
	}
	return &b
}

// process runs one batch through inst and returns its main outputs.
func process(t testing.TB, name string, inst *wasmhost.Instance, in []rec) []rec {
	t.Helper()
	out, err := inst.Process(context.Background(), batchOf(in))
	if err != nil {
		t.Fatalf("%s: process: %v", name, err)
	}
	var got []rec
	r := out.Reader()
	var v record.View
	for r.Next(&v) {
		got = append(got, fromView(t, &v))
	}
	if err := r.Err(); err != nil {
		t.Fatalf("%s: output batch: %v", name, err)
	}
	return got
}

func compare(t testing.TB, name string, in, got, want []rec) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d outputs, want %d", name, len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("%s: output %d\n got %v\nwant %v", name, i, got[i], want[i])
		}
	}
}

// ------------------------------------------------------------------ golden files

type enrichCase struct{ in, out string } // out "=": unchanged

// readGolden reads testdata/name: lines "keyword payload" ("keywordq" for a
// Go-quoted payload), comments and blank lines skipped.
func readGolden(t testing.TB, name string) [][2]string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines [][2]string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		kw, payload, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("%s:%d: no payload", name, n)
		}
		if strings.HasSuffix(kw, "q") {
			if payload, err = strconv.Unquote(payload); err != nil {
				t.Fatalf("%s:%d: %v", name, n, err)
			}
			kw = kw[:len(kw)-1]
		}
		lines = append(lines, [2]string{kw, payload})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// goldenPairs reads testdata/name as cases of two lines each, the first with
// keyword first and the second with keyword second; it returns their payloads.
func goldenPairs(t testing.TB, name, first, second string) [][2]string {
	lines := readGolden(t, name)
	var cases [][2]string
	for i := 0; i < len(lines); i += 2 {
		if i+1 >= len(lines) || lines[i][0] != first || lines[i+1][0] != second {
			t.Fatalf("%s: case %d is not an %s line and a %s line", name, len(cases), first, second)
		}
		cases = append(cases, [2]string{lines[i][1], lines[i+1][1]})
	}
	return cases
}

func enrichGolden(t testing.TB) []enrichCase {
	var cases []enrichCase
	for _, c := range goldenPairs(t, "enrich.golden", "in", "out") {
		cases = append(cases, enrichCase{c[0], c[1]})
	}
	return cases
}

type customerCase struct{ in, key string }

func customerGolden(t testing.TB) []customerCase {
	var cases []customerCase
	for _, c := range goldenPairs(t, "customer.golden", "in", "key") {
		cases = append(cases, customerCase{c[0], c[1]})
	}
	return cases
}

type positiveCase struct {
	in   string
	keep bool
}

func positiveGolden(t testing.TB) []positiveCase {
	var cases []positiveCase
	for _, l := range readGolden(t, "positive.golden") {
		if l[0] != "keep" && l[0] != "drop" {
			t.Fatalf("positive.golden: %q", l[0])
		}
		cases = append(cases, positiveCase{l[1], l[0] == "keep"})
	}
	return cases
}

// TestOracleMatchesGolden: the oracle agrees with every hand-written case, so it
// can judge generated inputs.
func TestOracleMatchesGolden(t *testing.T) {
	for _, c := range enrichGolden(t) {
		out, changed := oracleEnrich([]byte(c.in), "amount", 100)
		if got := string(out); (c.out == "=") == changed || changed && got != c.out {
			t.Errorf("enrich(%q): oracle %q (changed %v), golden %q", c.in, got, changed, c.out)
		}
	}
	for _, c := range positiveGolden(t) {
		if got := oraclePositive([]byte(c.in)); got != c.keep {
			t.Errorf("positive(%q): oracle %v, golden %v", c.in, got, c.keep)
		}
	}
	for _, c := range depthCases() {
		if _, changed := oracleEnrich([]byte(c.in), "amount", 100); changed != (c.out != "=") {
			t.Errorf("enrich on %d bytes of nesting: oracle changed %v, want %q", len(c.in), changed, c.out)
		}
	}
	for _, c := range customerGolden(t) {
		if got := oracleCustomer([]byte(c.in)); got != c.key {
			t.Errorf("customer(%q): oracle %q, golden %q", c.in, got, c.key)
		}
	}
	for _, c := range customerDepthCases() {
		if got := oracleCustomer([]byte(c.in)); got != c.key {
			t.Errorf("customer on %d bytes of nesting: oracle %q, want %q", len(c.in), got, c.key)
		}
	}
}

// depthCases: nesting of exactly 1000 levels (the top-level object included) is
// read, 1001 is malformed.
func depthCases() []enrichCase {
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	return []enrichCase{
		{`{"a":` + nest(999) + `,"amount":1}`, `{"a":` + nest(999) + `,"amount":100}`},
		{`{"a":` + nest(1000) + `,"amount":1}`, "="},
		{`{"amount":1,"a":` + nest(1000) + `}`, `{"amount":100,"a":` + nest(1000) + `}`}, // not read
	}
}

func TestEnrichDepth(t *testing.T) { testEnrichCases(t, depthCases()) }

// customerDepthCases: the same limit for customer.
func customerDepthCases() []customerCase {
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	return []customerCase{
		{`{"a":` + nest(999) + `,"customer":"c"}`, `"c"`},
		{`{"a":` + nest(1000) + `,"customer":"c"}`, "null"},
		{`{"customer":"c","a":` + nest(1000) + `}`, `"c"`}, // not read
	}
}

func TestCustomerDepth(t *testing.T) { testCustomerCases(t, customerDepthCases()) }

// ------------------------------------------------------------------ the suite

// enrichWant is what enrich must output for the records in, by the oracle with
// config (field, factor): each input, its payload replaced when it changes.
func enrichWant(in []rec, field string, factor int64) []rec {
	want := make([]rec, len(in))
	for i, r := range in {
		want[i] = r
		if p, changed := oracleEnrich([]byte(r.Payload), field, factor); changed {
			want[i].Payload = string(p)
		}
	}
	return want
}

func forEachLanguage(t *testing.T, f func(t *testing.T, lang language)) {
	for _, lang := range languages {
		t.Run(lang.name, func(t *testing.T) { f(t, lang) })
	}
}

func TestEnrichGolden(t *testing.T) { testEnrichCases(t, enrichGolden(t)) }

// testEnrichCases runs the cases as one batch through every language's enrich
// with its default config.
func testEnrichCases(t *testing.T, cases []enrichCase) {
	var in, want []rec
	for i, c := range cases {
		r := dress(i, c.in)
		in = append(in, r)
		if c.out != "=" {
			r.Payload = c.out
		}
		want = append(want, r)
	}
	oneBatch(t, "enrich", in, want)
}

// oneBatch runs in as one batch through every language's function fn, opened
// with the default config, and wants the outputs want.
func oneBatch(t *testing.T, fn string, in, want []rec) {
	forEachLanguage(t, func(t *testing.T, lang language) {
		compare(t, lang.name, in, process(t, lang.name, open(t, lang, fn, "{}"), in), want)
	})
}

// customerWant is what customer must output for the records in, by the oracle:
// each input with its key replaced (or set) by the oracle's key.
func customerWant(in []rec) []rec {
	want := make([]rec, len(in))
	for i, r := range in {
		want[i] = r
		want[i].HasKey, want[i].Key = true, oracleCustomer([]byte(r.Payload))
	}
	return want
}

func TestCustomerGolden(t *testing.T) { testCustomerCases(t, customerGolden(t)) }

// testCustomerCases runs the cases as one batch through every language's
// customer: every output is its input record, key replaced, all else inherited.
func testCustomerCases(t *testing.T, cases []customerCase) {
	var in, want []rec
	for i, c := range cases {
		r := dress(i, c.in)
		in = append(in, r)
		r.HasKey, r.Key = true, c.key
		want = append(want, r)
	}
	oneBatch(t, "customer", in, want)
}

func TestPositiveGolden(t *testing.T) {
	var in, want []rec
	for i, c := range positiveGolden(t) {
		r := dress(i, c.in)
		in = append(in, r)
		if c.keep {
			want = append(want, r)
		}
	}
	forEachLanguage(t, func(t *testing.T, lang language) {
		got := process(t, lang.name, open(t, lang, "positive", "{}"), in)
		compare(t, lang.name, in, got, want)
	})
}

// TestGenerated runs random order-like payloads, many of them damaged, and random
// bytes through enrich, positive and fail, judged by the oracle.
func TestGenerated(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 13))
	n := 3000
	if testing.Short() {
		n = 500
	}
	var in []rec
	for i := range n {
		p := randomPayload(rng)
		if i%10 == 9 {
			b := make([]byte, rng.IntN(40))
			for k := range b {
				b[k] = byte(rng.Uint32())
			}
			p = string(b)
		}
		in = append(in, dress(i, p))
	}
	wantEnrich := enrichWant(in, "amount", 100)
	var wantPositive, wantFail []rec
	changed := 0
	for i, r := range in {
		if oraclePositive([]byte(r.Payload)) {
			wantPositive = append(wantPositive, r)
		}
		if wantEnrich[i].Payload != r.Payload {
			changed++
		}
	}
	// fail gets the records that do not fail it (a failing batch is TestUDFError's).
	var failIn []rec
	for _, r := range in {
		if !oracleFails([]byte(r.Payload)) {
			failIn = append(failIn, r)
		}
	}
	wantFail = failIn
	t.Logf("%d payloads: enrich changes %d, positive keeps %d, fail passes %d", n, changed, len(wantPositive), len(failIn))
	if changed < n/10 || len(wantPositive) < n/10 || len(failIn) > n-n/20 {
		t.Fatalf("the generated payloads are too uniform")
	}
	// customer gets the same payloads with "customer" for "amount", so that its
	// member takes every value and damage the generator makes.
	asCustomer := strings.NewReplacer(`"amount`, `"customer`, `"am\u006funt`, `"cust\u006fmer`, `"Amount`, `"Customer`, `"ämount`, `"cüstomer`)
	customerIn := make([]rec, len(in))
	for i, r := range in {
		customerIn[i] = r
		customerIn[i].Payload = asCustomer.Replace(r.Payload)
	}
	wantCustomer := customerWant(customerIn)
	keyed := 0
	for _, r := range wantCustomer {
		if r.Key != "null" {
			keyed++
		}
	}
	t.Logf("customer keys %d of %d by the member", keyed, n)
	if keyed < n/10 || keyed > n-n/10 {
		t.Fatalf("the generated customer payloads are too uniform")
	}
	forEachLanguage(t, func(t *testing.T, lang language) {
		compare(t, lang.name+" enrich", in, process(t, lang.name, open(t, lang, "enrich", "{}"), in), wantEnrich)
		compare(t, lang.name+" positive", in, process(t, lang.name, open(t, lang, "positive", "{}"), in), wantPositive)
		compare(t, lang.name+" fail", failIn, process(t, lang.name, open(t, lang, "fail", "{}"), failIn), wantFail)
		compare(t, lang.name+" customer", customerIn, process(t, lang.name, open(t, lang, "customer", "{}"), customerIn), wantCustomer)
	})
}

// randomPayload makes an order-like JSON document, sometimes damaged.
func randomPayload(rng *rand.Rand) string {
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	numbers := []string{"0", "-0", "7", "-12", "13", "250", "1", "42", "-3", "1999", "100000", "12345678", "1.5", "-2.5e3",
		"1e-400", "-1e-400", "0.0", "-0.0", "92233720368547758", "92233720368547759", "-92233720368547758", "-92233720368547759",
		"9223372036854775807", "-9223372036854775808", "18446744073709551616", "00", "1.", ".5", "-", "1e", "+1", "0x10"}
	values := []string{`"x"`, `"a\"b\\c\u00e9"`, `true`, `false`, `null`, `[]`, `{}`, `[1,"2",{"amount":3}]`,
		`{"amount":{"amount":4}}`, `"\ud83d\ude00"`, `"Zoë €"`, "\"\xff\xfe\"", `nul`, `"\x"`, `[1,]`, "\"\x01\""}
	ws := []string{"", "", " ", "\n\t", "\r"}
	var b strings.Builder
	b.WriteString(pick(ws...) + "{")
	for i := range 1 + rng.IntN(4) {
		if i > 0 {
			b.WriteString("," + pick(ws...))
		}
		name := pick(`"amount"`, `"amount"`, `"amount"`, `"am\u006funt"`, `"Amount"`, `"id"`, `"a\"mount"`, `"amount "`, `"ämount"`)
		b.WriteString(name + pick(ws...) + ":" + pick(ws...))
		if rng.IntN(3) > 0 {
			b.WriteString(pick(numbers...))
		} else {
			b.WriteString(pick(values...))
		}
		b.WriteString(pick(ws...))
	}
	b.WriteString("}")
	s := []byte(b.String())
	switch rng.IntN(6) { // damage one in three
	case 0:
		s = s[:rng.IntN(len(s)+1)]
	case 1:
		const junk = "{}[]\",:\\ 0-e.\xff"
		s[rng.IntN(len(s))] = junk[rng.IntN(len(junk))]
	}
	return string(s)
}

func TestEmptyBatch(t *testing.T) {
	forEachLanguage(t, func(t *testing.T, lang language) {
		for _, fn := range []string{"enrich", "positive", "fail", "customer"} {
			inst := open(t, lang, fn, "{}")
			for range 2 { // also after a non-empty batch
				if got := process(t, lang.name, inst, nil); len(got) != 0 {
					t.Errorf("%s: %d outputs for an empty batch", fn, len(got))
				}
				process(t, lang.name, inst, []rec{{Payload: `{"amount":1}`}})
			}
		}
	})
}

// TestLargeRecords: records of 1 MiB, JSON and binary, in one batch, then a
// small batch in the same instance (the input buffer is reused).
func TestLargeRecords(t *testing.T) {
	const mib = 1 << 20
	pad := strings.Repeat("x", mib-40)
	bin := make([]byte, mib)
	for i := range bin {
		bin[i] = byte(i*7 + i>>8)
	}
	in := []rec{
		dress(1, `{"id":1,"amount":12,"pad":"`+pad+`"}`),
		dress(2, `{"pad":"`+pad+`","amount":-3}`),
		dress(3, string(bin)),
		dress(0, `{"amount":5,"s":"`+strings.Repeat("é", mib/2)+`"}`),
		dress(1, `{"customer":"`+pad+`"}`), // a key of 1 MiB
	}
	for i := range in {
		if n := len(in[i].Payload); n < mib-64 || n > mib+64 {
			t.Fatalf("record %d is %d bytes", i, n)
		}
	}
	small := []rec{dress(5, `{"amount":2}`)}
	want := enrichWant(in, "amount", 100)
	if want[0].Payload == in[0].Payload || want[1].Payload == in[1].Payload || want[3].Payload == in[3].Payload {
		t.Fatal("the oracle leaves the large JSON records unchanged")
	}
	var wantPositive []rec
	for _, r := range in {
		if oraclePositive([]byte(r.Payload)) {
			wantPositive = append(wantPositive, r)
		}
	}
	forEachLanguage(t, func(t *testing.T, lang language) {
		enrich := open(t, lang, "enrich", "{}")
		compare(t, lang.name, in, process(t, lang.name, enrich, in), want)
		compare(t, lang.name, small, process(t, lang.name, enrich, small), enrichWant(small, "amount", 100))
		compare(t, lang.name, in, process(t, lang.name, open(t, lang, "positive", "{}"), in), wantPositive)
		customer := open(t, lang, "customer", "{}")
		compare(t, lang.name, in, process(t, lang.name, customer, in), customerWant(in))
		compare(t, lang.name, small, process(t, lang.name, customer, small), customerWant(small))
	})
}

// TestUDFError: fail's error fails the call with its message, as a CallError of
// kind error, and nothing of the batch is output.
func TestUDFError(t *testing.T) {
	in := []rec{dress(0, `{"amount":3}`), dress(1, `{"amount":0}`), dress(2, `{"amount":-1e-9}`), dress(3, `{"amount":4}`)}
	if !oracleFails([]byte(in[2].Payload)) {
		t.Fatal("oracle: -1e-9 does not fail")
	}
	forEachLanguage(t, func(t *testing.T, lang language) {
		inst := open(t, lang, "fail", "{}")
		_, err := inst.Process(context.Background(), batchOf(in))
		var ce *wasmhost.CallError
		if !errors.As(err, &ce) {
			t.Fatalf("want a CallError, got %v", err)
		}
		if ce.Kind != wasmhost.FailureError || ce.Message != "amount must not be negative" || ce.Function != "fail" {
			t.Errorf("got %+v", ce)
		}
		// An error is not a trap: the instance stays usable.
		ok := []rec{dress(0, `{"amount":-0}`)}
		compare(t, lang.name, ok, process(t, lang.name, inst, ok), ok)
	})
}

// TestEnrichConfig: the step's config sets the member and the factor; unknown
// members are an error at open.
func TestEnrichConfig(t *testing.T) {
	in := []rec{
		dress(0, `{"price":7,"amount":5}`), dress(1, `{"price":-4}`), dress(2, `{"amount":5}`),
		dress(3, `{"price":3074457345618258603}`), // the product by 3 overflows
	}
	want := enrichWant(in, "price", 3)
	forEachLanguage(t, func(t *testing.T, lang language) {
		if !lang.config {
			t.Logf("%s: enrich ignores its config by definition; tested with the default config only", lang.name)
			return
		}
		inst := open(t, lang, "enrich", `{"field":"price","factor":3}`)
		compare(t, lang.name, in, process(t, lang.name, inst, in), want)

		bad, err := load(t, lang).Instantiate(context.Background(), "enrich", wasmhost.Limits{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer bad.Close(context.Background(), false)
		err = bad.Open(context.Background(), []byte(`{"feild":"price"}`))
		var ce *wasmhost.CallError
		if !errors.As(err, &ce) || ce.Kind != wasmhost.FailureError || !strings.HasPrefix(ce.Message, "enrich: ") {
			t.Errorf("open with an unknown member: %v", err)
		}
	})
}

// TestABIPageModule: the complete module sdk/ABI.md §7 shows is
// udf-examples/wat/identity.wat, which the examples build and test.
func TestABIPageModule(t *testing.T) {
	page, err := os.ReadFile(filepath.Join("..", "..", "sdk", "ABI.md"))
	if err != nil {
		t.Fatal(err)
	}
	wat, err := os.ReadFile(filepath.Join("..", "wat", "identity.wat"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(page), "\n## 7. ")
	if !ok {
		t.Fatal("ABI.md has no section 7")
	}
	_, code, ok := strings.Cut(section, "```wat\n")
	if code, _, ok2 := strings.Cut(code, "```\n"); !ok || !ok2 || code != string(wat) {
		t.Errorf("the module in ABI.md §7 differs from udf-examples/wat/identity.wat")
	}
}

// FuzzEnrich: for any payload, every language's enrich, positive and customer
// give what the oracle says. (The fuzzer sees no coverage inside Wasm: it mutates
// blindly.)
func FuzzEnrich(f *testing.F) {
	for _, c := range enrichGolden(f) {
		f.Add([]byte(c.in))
	}
	for _, c := range customerGolden(f) {
		f.Add([]byte(c.in))
	}
	type trio struct{ enrich, positive, customer *wasmhost.Instance }
	var insts []trio
	for _, lang := range languages {
		insts = append(insts, trio{open(f, lang, "enrich", "{}"), open(f, lang, "positive", "{}"), open(f, lang, "customer", "{}")})
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		in := []rec{dress(2, string(payload))}
		want := enrichWant(in, "amount", 100)
		var wantPositive []rec
		if oraclePositive(payload) {
			wantPositive = in
		}
		for i, lang := range languages {
			compare(t, lang.name+" enrich", in, process(t, lang.name, insts[i].enrich, in), want)
			compare(t, lang.name+" positive", in, process(t, lang.name, insts[i].positive, in), wantPositive)
			compare(t, lang.name+" customer", in, process(t, lang.name, insts[i].customer, in), customerWant(in))
		}
	})
}
