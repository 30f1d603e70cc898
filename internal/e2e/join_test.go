package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
)

// The bounds of the interval joins below: a payment joins an order of the same
// id when order.ts-1s <= payment.ts <= order.ts+5s.
const joinLower, joinUpper = -1000, 5000

// order and payment are the two sides of the joins.
type order struct {
	ID     string `json:"order_id"`
	Amount int64  `json:"amount"`
	TS     int64  `json:"ts"`
}

type payment struct {
	ID     string `json:"payment_id"`
	Order  string `json:"order_id"`
	Amount int64  `json:"amount"`
	TS     int64  `json:"ts"`
}

// joinEvents are n orders and their payments: most orders get one payment, some
// two, some none, at times from 1.5 s before to 6.5 s after the order (so some
// fall outside the bounds). Both streams are published in one interleaved
// order whose disorder is below 800 ms per stream, under the jobs' 1 s bound:
// nothing is late.
func joinEvents(n int) (orders []order, payments []payment, subjects []string, payloads [][]byte) {
	rng := rand.New(rand.NewPCG(17, 29))
	type ev struct {
		at      int64
		subject string
		payload []byte
	}
	var evs []ev
	for i := range n {
		o := order{ID: fmt.Sprintf("o%d", i), Amount: 10 + rng.Int64N(990), TS: winBase + int64(i)*4}
		orders = append(orders, o)
		b, _ := json.Marshal(o)
		evs = append(evs, ev{o.TS + rng.Int64N(800), "ord", b})
		pays := 1
		switch {
		case i%5 == 0:
			pays = 0
		case i%7 == 0:
			pays = 2
		}
		for range pays {
			p := payment{ID: fmt.Sprintf("p%d", len(payments)), Order: o.ID, TS: o.TS - 1500 + rng.Int64N(8000)}
			p.Amount = o.Amount - rng.Int64N(3)
			payments = append(payments, p)
			b, _ := json.Marshal(p)
			evs = append(evs, ev{p.TS + rng.Int64N(800), "pay", b})
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at < evs[j].at })
	for _, e := range evs {
		subjects, payloads = append(subjects, e.subject), append(payloads, e.payload)
	}
	return orders, payments, subjects, payloads
}

// pairKey is one join row: an order id and a payment id, "" for none.
type pairKey struct{ Order, Payment string }

// expectedPairs computes, by brute force, the pairs of an interval join, with
// the unmatched orders as (order, "") when leftOuter.
func expectedPairs(orders []order, payments []payment, leftOuter bool) map[pairKey]int {
	byOrder := map[string][]payment{}
	for _, p := range payments {
		byOrder[p.Order] = append(byOrder[p.Order], p)
	}
	want := map[pairKey]int{}
	for _, o := range orders {
		matched := false
		for _, p := range byOrder[o.ID] {
			if o.TS+joinLower <= p.TS && p.TS <= o.TS+joinUpper {
				want[pairKey{o.ID, p.ID}]++
				matched = true
			}
		}
		if !matched && leftOuter {
			want[pairKey{o.ID, ""}]++
		}
	}
	return want
}

// joinRows reads an interval join's rows: {"left": order, "right": payment},
// each with the timestamp header the later of the two (or the order's alone).
func joinRows(t *testing.T, s *standalone, stream string) map[pairKey]int {
	t.Helper()
	got := map[pairKey]int{}
	s.forEach(stream, func(m jetstream.Msg) {
		var r struct {
			Left  *order   `json:"left"`
			Right *payment `json:"right"`
		}
		require.NoError(t, json.Unmarshal(m.Data(), &r), "row %q", m.Data())
		require.NotNil(t, r.Left, "row %q", m.Data())
		k, ts := pairKey{Order: r.Left.ID}, r.Left.TS
		if r.Right != nil {
			k.Payment, ts = r.Right.ID, max(ts, r.Right.TS)
			require.Equal(t, r.Left.ID, r.Right.Order, "row %q", m.Data())
		}
		require.Equal(t, fmt.Sprint(ts), m.Headers().Get("Weir-Timestamp"), "row %s", m.Data())
		got[k]++
	})
	return got
}

func requirePairs(t *testing.T, want, got map[pairKey]int) {
	t.Helper()
	var missing, wrong, extra []string
	for k, n := range want {
		switch g := got[k]; {
		case g == 0:
			missing = append(missing, fmt.Sprint(k))
		case g != n:
			wrong = append(wrong, fmt.Sprintf("%v×%d, want %d", k, g, n))
		}
	}
	for k := range got {
		if want[k] == 0 {
			extra = append(extra, fmt.Sprint(k))
		}
	}
	sort.Strings(missing)
	sort.Strings(wrong)
	sort.Strings(extra)
	if len(missing)+len(wrong)+len(extra) > 0 {
		t.Fatalf("%d rows expected, %d received: %d missing %v, %d wrong %v, %d unexpected %v",
			len(want), len(got), len(missing), head(missing), len(wrong), head(wrong), len(extra), head(extra))
	}
}

// joinSources are the start of the join jobs: both streams of JOIN with event
// time, keyed by order id.
const joinSources = `
parallelism: 2
checkpointing: { interval: 1s }
pipeline:
  - id: orders
    source: { jetstream: { stream: JOIN, subjects: [ord] } }
    timestamps: { json_field: ts, max_out_of_orderness: 1s }
  - id: payments
    source: { jetstream: { stream: JOIN, subjects: [pay] } }
    timestamps: { json_field: ts, max_out_of_orderness: 1s }
  - id: orders-by-id
    input: orders
    key_by: { json_field: order_id }
  - id: payments-by-id
    input: payments
    key_by: { json_field: order_id }
`

// joinJob joins ORDERS and PAYMENTS by order id; outer is the join's outer
// line ("" for inner), extra the steps after the join, delivery the sink's.
func joinJob(name, outer, extra, subject, delivery string) string {
	return `name: ` + name + joinSources + `  - id: matched
    inputs: [orders-by-id, payments-by-id]
    join: { type: interval, lower_bound: -1s, upper_bound: 5s` + outer + ` }
` + extra + `  - id: out
    sink: { jetstream: { subject: ` + subject + ` }, delivery: ` + delivery + ` }
`
}

// joinWatermark is the event-time clock the join reaches once every record is
// read: the smaller of the two streams' largest timestamps, less the 1 s
// bound, less 1 ms.
func joinWatermark(orders []order, payments []payment) int64 {
	var mo, mp int64
	for _, o := range orders {
		mo = max(mo, o.TS)
	}
	for _, p := range payments {
		mp = max(mp, p.TS)
	}
	return min(mo, mp) - 1000 - 1
}

// TestIntervalJoinEndToEnd joins two JetStream streams of out-of-order orders
// and payments in standalone, inner and left outer (the latter shaped by the Go
// streams module's match function), stops both with drain, and compares every
// row with the pairs computed here.
func TestIntervalJoinEndToEnd(t *testing.T) {
	s := startStandalone(t, t.TempDir(), "--slots", "8")
	s.upload("streams", "streams.wasm")
	_, err := s.js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "JOIN", Subjects: []string{"ord", "pay"}, Storage: jetstream.FileStorage})
	require.NoError(t, err)
	orders, payments, subjects, payloads := joinEvents(6000)
	s.stream("JOUT_INNER", "jout.inner")
	s.stream("JOUT_LEFT", "orders.matched")
	inner := s.submit(joinJob("join-inner", "", "", "jout.inner", "at_least_once"))
	left := s.submit(exampleJob(t, "orders-payments.yaml"))
	s.waitStatus(inner, "RUNNING", time.Minute)
	s.waitStatus(left, "RUNNING", time.Minute)
	s.publishTo(subjects, payloads)

	wm := joinWatermark(orders, payments)
	waitWatermark(t, s, inner, "matched", wm)
	stopDrained(t, s, inner)
	want := expectedPairs(orders, payments, false)
	requirePairs(t, want, joinRows(t, s, "JOUT_INNER"))
	t.Logf("inner: all %d pairs exact", len(want))

	waitWatermark(t, s, left, "matched", wm)
	stopDrained(t, s, left)
	// The left outer rows, shaped by match: one per pair, one per order
	// without a payment in bounds.
	payByID := map[string]payment{}
	for _, p := range payments {
		payByID[p.ID] = p
	}
	ordByID := map[string]order{}
	for _, o := range orders {
		ordByID[o.ID] = o
	}
	wantRows := map[string]int{}
	unmatched := 0
	for k, n := range expectedPairs(orders, payments, true) {
		o := ordByID[k.Order]
		row := fmt.Sprintf(`{"order":"%s","ordered":%d,"paid":null,"underpaid":true}`, o.ID, o.Amount)
		if p, ok := payByID[k.Payment]; ok {
			row = fmt.Sprintf(`{"order":"%s","ordered":%d,"paid":%d,"underpaid":%t}`, o.ID, o.Amount, p.Amount, p.Amount < o.Amount)
		} else {
			unmatched++
		}
		wantRows[row] += n
	}
	gotRows := map[string]int{}
	for _, r := range s.readAll("JOUT_LEFT") {
		gotRows[r]++
	}
	require.Equal(t, wantRows, gotRows)
	t.Logf("left outer: all %d rows exact, %d of them orders without a payment", len(gotRows), unmatched)
}

// TestIntervalJoinExactlyOnceAfterWorkerLoss runs the inner interval join on
// two workers with checkpoints every second and an exactly-once sink,
// SIGKILLs a worker mid-stream, and checks that every pair appears exactly
// once.
func TestIntervalJoinExactlyOnceAfterWorkerLoss(t *testing.T) {
	c := startCluster(t, 2, 4, "--heartbeat-timeout", "3s")
	s := c.control
	_, err := s.js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "JOIN", Subjects: []string{"ord", "pay"}, Storage: jetstream.FileStorage})
	require.NoError(t, err)
	s.stream("JOUT", "jout")
	orders, payments, subjects, payloads := joinEvents(9000)
	n := len(payloads)
	s.publishTo(subjects[:n/3], payloads[:n/3])
	id := s.submit(joinJob("join-eo", "", "", "jout", "exactly_once"))
	j := waitAttempt(t, s, id, 0, time.Minute)
	s.waitCount("JOUT", 50, 2*time.Minute)
	victim := ""
	for _, v := range j.Plan.Vertices {
		if v.ID == "matched" {
			victim = v.Subtasks[0].Worker // a worker holding join state
		}
	}
	c.killMidStream(id, j, victim, subjects[n/3:], payloads[n/3:])
	waitWatermark(t, s, id, "matched", joinWatermark(orders, payments))
	stopDrained(t, s, id)
	want := expectedPairs(orders, payments, false)
	requirePairs(t, want, joinRows(t, s, "JOUT"))
	t.Logf("all %d pairs exactly once", len(want))
}

// exampleJob is the job spec udf-examples/jobs/<name>.
func exampleJob(t *testing.T, name string) string {
	b, err := os.ReadFile(filepath.Join(repoRoot(), "udf-examples", "jobs", name))
	require.NoError(t, err)
	return string(b)
}

// fraudRules is a rules stream's records: rule id -> max amount.
func fraudRules(rules map[string]int64) [][]byte {
	ids := make([]string, 0, len(rules))
	for id := range rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out [][]byte
	for _, id := range ids {
		if rules[id] < 0 {
			out = append(out, fmt.Appendf(nil, `{"rule":"%s","delete":true}`, id))
			continue
		}
		out = append(out, fmt.Appendf(nil, `{"rule":"%s","max_amount":%d}`, id, rules[id]))
	}
	return out
}

// expectedAlerts computes the fraud function's alerts and clean transactions
// for transactions from..to under rules.
func expectedAlerts(from, to int, amount func(int) int64, rules map[string]int64) (alerts, clean []string) {
	ids := make([]string, 0, len(rules))
	for id, max := range rules {
		if max >= 0 {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for i := from; i < to; i++ {
		flagged := false
		for _, id := range ids {
			if amount(i) > rules[id] {
				alerts = append(alerts, fmt.Sprintf(`{"txn":"t%d","rule":"%s","amount":%d}`, i, id, amount(i)))
				flagged = true
			}
		}
		if !flagged {
			clean = append(clean, string(txn(i, amount(i))))
		}
	}
	return alerts, clean
}

func txn(i int, amount int64) []byte {
	return fmt.Appendf(nil, `{"id":"t%d","account":"a%d","amount":%d}`, i, i%37, amount)
}

// waitRead waits until the subtasks of vertex v of job id have read n records
// in all.
func waitRead(t *testing.T, s *standalone, id, v string, n int64) {
	t.Helper()
	var got int64
	require.Eventually(t, func() bool {
		got = 0
		for _, vx := range s.job(id).Plan.Vertices {
			if vx.ID == v {
				for _, st := range vx.Subtasks {
					got += st.RecordsIn
				}
			}
		}
		return got == n
	}, 2*time.Minute, 50*time.Millisecond, "vertex %s of job %s read %d records, want %d\n%s", v, id, got, n, s.logs())
}

// TestFraudRulesBroadcast runs the fraud-rule job (the Go streams module's
// fraud co_process function, with broadcast state) in standalone on two
// subtasks: transactions keyed by account, rules broadcast. A rule update
// broadcast mid-stream applies to every transaction after it on every
// subtask; the transactions no rule flags come out of the function's side
// output.
func TestFraudRulesBroadcast(t *testing.T) {
	s := startStandalone(t, t.TempDir(), "--slots", "8")
	s.upload("streams", "streams.wasm")
	s.stream("TXNS", "txns")
	s.stream("RULES", "rules")
	s.stream("ALERTS", "alerts")
	s.stream("CLEAN", "clean")
	id := s.submit(exampleJob(t, "fraud-rules.yaml"))
	s.waitStatus(id, "RUNNING", time.Minute)
	amount := func(i int) int64 { return int64((i * 7919) % 1000) }
	const n = 4000
	before := map[string]int64{"big": 900, "medium": 600}
	after := map[string]int64{"big": -1, "medium": 300, "small": 100} // big deleted, medium lowered, small added

	// Rules first, on both subtasks (2 records each), then the first half.
	s.publish("rules", fraudRules(before))
	waitRead(t, s, id, "fraud", 2*2)
	batch := make([][]byte, 0, n)
	for i := range n / 2 {
		batch = append(batch, txn(i, amount(i)))
	}
	s.publish("txns", batch)
	waitRead(t, s, id, "fraud", 2*2+n/2)
	// The update reaches every subtask before the second half.
	s.publish("rules", fraudRules(after))
	waitRead(t, s, id, "fraud", 2*2+n/2+2*3)
	batch = batch[:0]
	for i := n / 2; i < n; i++ {
		batch = append(batch, txn(i, amount(i)))
	}
	s.publish("txns", batch)

	alerts1, clean1 := expectedAlerts(0, n/2, amount, before)
	alerts2, clean2 := expectedAlerts(n/2, n, amount, after)
	wantAlerts, wantClean := append(alerts1, alerts2...), append(clean1, clean2...)
	s.waitCount("ALERTS", uint64(len(wantAlerts)), 2*time.Minute)
	s.waitCount("CLEAN", uint64(len(wantClean)), 2*time.Minute)
	gotAlerts, gotClean := s.readAll("ALERTS"), s.readAll("CLEAN")
	sort.Strings(wantAlerts)
	sort.Strings(gotAlerts)
	sort.Strings(wantClean)
	sort.Strings(gotClean)
	require.Equal(t, wantAlerts, gotAlerts)
	require.Equal(t, wantClean, gotClean)
	t.Logf("%d alerts (%d under the first rules, %d under the update) and %d clean transactions exact",
		len(gotAlerts), len(alerts1), len(alerts2), len(gotClean))
	require.True(t, strings.Contains(strings.Join(gotAlerts, ","), `"rule":"small"`), "the rule added mid-stream flags later transactions")
}

// TestWindowJoinUnionAndCountWindowEndToEnd runs, in standalone, a tumbling
// window join of the orders and payments, a union of both streams and keyed
// tumbling count windows, and compares each output with one computed here.
func TestWindowJoinUnionAndCountWindowEndToEnd(t *testing.T) {
	s := startStandalone(t, t.TempDir(), "--slots", "8")
	_, err := s.js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "JOIN", Subjects: []string{"ord", "pay"}, Storage: jetstream.FileStorage})
	require.NoError(t, err)
	orders, payments, subjects, payloads := joinEvents(4000)
	s.stream("WJOIN", "wjoin")
	s.stream("BOTH", "both")
	s.stream("TENS", "tens")
	id := s.submit(`name: toolbox` + joinSources + `  - id: paired
    inputs: [orders-by-id, payments-by-id]
    join: { type: window, window: { tumbling: 10s } }
  - id: out-paired
    sink: { jetstream: { subject: wjoin } }
  - id: both
    inputs: [orders, payments]
    union: {}
  - id: out-both
    sink: { jetstream: { subject: both } }
  - id: by-amount
    input: orders
    key_by: { json_field: amount }
  - id: tens
    window: { count: { size: 3 } }
    aggregate: { builtin: count }
  - id: out-tens
    sink: { jetstream: { subject: tens } }
`)
	s.waitStatus(id, "RUNNING", time.Minute)
	s.publishTo(subjects, payloads)
	waitWatermark(t, s, id, "paired", joinWatermark(orders, payments))
	stopDrained(t, s, id)

	// The window join: pairs whose order and payment share a 10 s window.
	want := map[pairKey]int{}
	byOrder := map[string]order{}
	for _, o := range orders {
		byOrder[o.ID] = o
	}
	for _, p := range payments {
		if o := byOrder[p.Order]; o.TS/10_000 == p.TS/10_000 {
			want[pairKey{o.ID, p.ID}]++
		}
	}
	got := map[pairKey]int{}
	s.forEach("WJOIN", func(m jetstream.Msg) {
		var r struct {
			Left  order   `json:"left"`
			Right payment `json:"right"`
		}
		require.NoError(t, json.Unmarshal(m.Data(), &r))
		require.Equal(t, fmt.Sprint(r.Left.TS/10_000*10_000+9_999), m.Headers().Get("Weir-Timestamp"), "row %s", m.Data())
		got[pairKey{r.Left.ID, r.Right.ID}]++
	})
	requirePairs(t, want, got)

	// The union: every record of both streams once.
	require.Equal(t, uint64(len(payloads)), s.msgCount("BOTH"))

	// The count windows: per amount, one result of 3 for every 3 orders (the
	// rest never fills a window).
	perAmount := map[int64]int{}
	for _, o := range orders {
		perAmount[o.Amount]++
	}
	wantTens := map[string]int{}
	for a, n := range perAmount {
		if n/3 > 0 {
			wantTens[fmt.Sprint(a)] = n / 3
		}
	}
	gotTens := map[string]int{}
	s.forEach("TENS", func(m jetstream.Msg) {
		var r struct {
			Key   json.Number `json:"key"`
			Count int         `json:"count"`
		}
		require.NoError(t, json.Unmarshal(m.Data(), &r), "result %s", m.Data())
		require.Equal(t, 3, r.Count, "result %s", m.Data())
		gotTens[r.Key.String()]++
	})
	require.Equal(t, wantTens, gotTens)
	t.Logf("%d window-join pairs, %d union records, %d count windows exact", len(got), len(payloads), len(gotTens))
}

// TestBroadcastStateSurvivesRescale runs the fraud-rule job with checkpoints,
// rescales its fraud step from 2 to 3 subtasks after the rules were read, and
// checks that every later transaction, on every subtask (the new one's copy of
// the broadcast state came from the savepoint), meets the rules.
func TestBroadcastStateSurvivesRescale(t *testing.T) {
	s := startStandalone(t, t.TempDir(), "--slots", "8")
	s.upload("streams", "streams.wasm")
	for _, st := range []string{"TXNS", "RULES", "ALERTS", "CLEAN"} {
		s.stream(st, strings.ToLower(st))
	}
	id := s.submit(strings.Replace(exampleJob(t, "fraud-rules.yaml"), "parallelism: 2\n", "parallelism: 2\ncheckpointing: { interval: 1s }\n", 1))
	j := s.waitStatus(id, "RUNNING", time.Minute)
	amount := func(i int) int64 { return int64((i * 7919) % 1000) }
	rules := map[string]int64{"big": 900, "medium": 600, "small": 200}
	s.publish("rules", fraudRules(rules))
	const n = 3000
	var batch [][]byte
	for i := range n / 2 {
		batch = append(batch, txn(i, amount(i)))
	}
	s.publish("txns", batch)
	waitRead(t, s, id, "fraud", 2*3+n/2)

	var rs struct{ Savepoint string }
	require.Equal(t, 202, postJSON(t, s, "/jobs/"+id+"/rescale", `{"steps": {"fraud": 3}}`, &rs))
	j = waitAttempt(t, s, id, j.Attempt, 2*time.Minute)
	require.Equal(t, 3, parallelismOf(j, "fraud"))
	t.Logf("rescaled fraud to 3 from savepoint %s (attempt %d)", rs.Savepoint, j.Attempt)

	batch = batch[:0]
	for i := n / 2; i < n; i++ {
		batch = append(batch, txn(i, amount(i)))
	}
	s.publish("txns", batch)
	want, _ := expectedAlerts(n/2, n, amount, rules)
	// Every transaction after the rescale went through one of the 3 subtasks.
	require.Eventually(t, func() bool {
		var in int64
		for _, v := range s.job(id).Plan.Vertices {
			if v.ID == "fraud" {
				for _, st := range v.Subtasks {
					in += st.RecordsIn
				}
			}
		}
		return in >= n/2
	}, 2*time.Minute, 50*time.Millisecond)
	var got []string
	require.Eventually(t, func() bool {
		got = got[:0]
		for _, a := range s.readAll("ALERTS") {
			var r struct{ Txn string }
			require.NoError(t, json.Unmarshal([]byte(a), &r))
			if k, _ := strconv.Atoi(strings.TrimPrefix(r.Txn, "t")); k >= n/2 {
				got = append(got, a)
			}
		}
		return len(got) >= len(want)
	}, 2*time.Minute, 100*time.Millisecond, "alerts after the rescale: %d, want %d", len(got), len(want))
	sort.Strings(want)
	sort.Strings(got)
	require.Equal(t, want, got)
	perSubtask := []int64{}
	for _, v := range s.job(id).Plan.Vertices {
		if v.ID == "fraud" {
			for _, st := range v.Subtasks {
				perSubtask = append(perSubtask, st.RecordsIn)
			}
		}
	}
	t.Logf("%d alerts after the rescale exact; records read per fraud subtask %v", len(got), perSubtask)
}
