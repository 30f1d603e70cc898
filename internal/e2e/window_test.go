package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/stretchr/testify/require"
	"github.com/weir-streams/weir/internal/client"
)

// winBase is the event time of the first window test record: a multiple of 10 s.
const winBase = 1_700_000_000_000

// windowEvents are n records of keys k0..k(keys-1) with event times in a JSON
// field, out of order by up to 900 ms (less than the jobs' 1 s bound, so none
// is late), 5 ms apart on average, with a 3 s pause after every 2,000 records so
// that session windows close. Key k goes to partition k % 2.
func windowEvents(n, keys int) (subjects []string, payloads [][]byte, keyOf []string, tsOf []int64) {
	rng := rand.New(rand.NewPCG(7, 11))
	for i := range n {
		ts := winBase + int64(i)*5 + int64(i/2000)*3000 - rng.Int64N(900)
		k := i % keys
		subjects = append(subjects, fmt.Sprintf("win.%d", k%2))
		payloads = append(payloads, fmt.Appendf(nil, `{"key":"k%d","ts":%d,"n":%d}`, k, ts, i))
		keyOf = append(keyOf, fmt.Sprintf("k%d", k))
		tsOf = append(tsOf, ts)
	}
	return subjects, payloads, keyOf, tsOf
}

// winKey is one (key, window).
type winKey struct {
	Key        string
	Start, End int64
}

func (w winKey) String() string { return fmt.Sprintf("%s[%d,%d)", w.Key, w.Start, w.End) }

// expectedTumbling and its kin compute, independently of Weir, the count of
// every (key, window).
func expectedSliding(keyOf []string, tsOf []int64, size, slide int64) map[winKey]int {
	want := map[winKey]int{}
	for i, ts := range tsOf {
		for s := ts - ((ts%slide)+slide)%slide; s > ts-size; s -= slide {
			want[winKey{keyOf[i], s, s + size}]++
		}
	}
	return want
}

func expectedSessions(keyOf []string, tsOf []int64, gap int64) map[winKey]int {
	perKey := map[string][]int64{}
	for i, ts := range tsOf {
		perKey[keyOf[i]] = append(perKey[keyOf[i]], ts)
	}
	want := map[winKey]int{}
	for k, tss := range perKey {
		sort.Slice(tss, func(i, j int) bool { return tss[i] < tss[j] })
		start, n := tss[0], 0
		for i, ts := range tss {
			if i > 0 && ts-tss[i-1] > gap { // records exactly gap apart share a session
				want[winKey{k, start, tss[i-1] + gap}] = n
				start, n = ts, 0
			}
			n++
		}
		want[winKey{k, start, tss[len(tss)-1] + gap}] = n
	}
	return want
}

// windowResults reads a window job's results: every (key, window) must appear
// once, with a timestamp header of window_end - 1.
func windowResults(t *testing.T, s *standalone, stream string) map[winKey]int {
	t.Helper()
	got := map[winKey]int{}
	s.forEach(stream, func(m jetstream.Msg) {
		var r struct {
			Key         string `json:"key"`
			WindowStart int64  `json:"window_start"`
			WindowEnd   int64  `json:"window_end"`
			Count       int    `json:"count"`
		}
		require.NoError(t, json.Unmarshal(m.Data(), &r), "result %q", m.Data())
		k := winKey{r.Key, r.WindowStart, r.WindowEnd}
		if _, dup := got[k]; dup {
			t.Fatalf("window %s appears twice (again with count %d)", k, r.Count)
		}
		require.Equal(t, fmt.Sprint(r.WindowEnd-1), m.Headers().Get("Weir-Timestamp"), "result %s", m.Data())
		got[k] = r.Count
	})
	return got
}

func requireWindows(t *testing.T, want, got map[winKey]int) {
	t.Helper()
	var missing, wrong, extra []string
	for k, n := range want {
		switch g, ok := got[k]; {
		case !ok:
			missing = append(missing, k.String())
		case g != n:
			wrong = append(wrong, fmt.Sprintf("%s=%d, want %d", k, g, n))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			extra = append(extra, k.String())
		}
	}
	sort.Strings(missing)
	sort.Strings(wrong)
	sort.Strings(extra)
	if len(missing)+len(wrong)+len(extra) > 0 {
		t.Fatalf("%d windows expected, %d received: %d missing %v, %d wrong %v, %d unexpected %v",
			len(want), len(got), len(missing), head(missing), len(wrong), head(wrong), len(extra), head(extra))
	}
}

// windowJob is a keyed count over the WIN stream; window is the spec's window
// line, delivery the sink's.
func windowJob(name, window, subject, delivery string) string {
	return `name: ` + name + `
parallelism: 2
checkpointing: { interval: 1s }
pipeline:
  - id: events
    source:
      jetstream: { stream: WIN, subjects: ["win.*"], partitions: { count: 2, token: 2 } }
    timestamps: { json_field: ts, max_out_of_orderness: 1s }
  - id: by-key
    key_by: { json_field: key }
  - id: counts
    window: ` + window + `
    aggregate: { builtin: count }
  - id: out
    sink: { jetstream: { subject: ` + subject + ` }, delivery: ` + delivery + ` }
`
}

// stopDrained stops a job with drain, which fires every open window, and waits
// until it is FINISHED.
func stopDrained(t *testing.T, s *standalone, id string) {
	t.Helper()
	var stop struct{ Savepoint string }
	require.Equal(t, 202, postJSON(t, s, "/jobs/"+id+"/stop", `{"savepoint": true, "drain": true}`, &stop))
	s.waitStatus(id, "FINISHED", 2*time.Minute)
}

// lastWatermark is the event-time clock the windows reach once every record is
// read: the smaller of the two partitions' largest timestamps, less the 1 s
// bound, less 1 ms.
func lastWatermark(keyOf []string, tsOf []int64) int64 {
	var maxTS [2]int64
	for i, ts := range tsOf {
		k, _ := strconv.Atoi(keyOf[i][1:]) // key k<k> is in partition k % 2
		maxTS[k%2] = max(maxTS[k%2], ts)
	}
	return min(maxTS[0], maxTS[1]) - 1000 - 1
}

// waitWatermark waits until every subtask of vertex v of job id has an
// event-time clock of want: all records were read and processed.
func waitWatermark(t *testing.T, s *standalone, id, v string, want int64) {
	t.Helper()
	var last []string
	require.Eventually(t, func() bool {
		last = nil
		ok := true
		for _, vx := range s.job(id).Plan.Vertices {
			if vx.ID != v {
				continue
			}
			for _, st := range vx.Subtasks {
				if st.Watermark == nil {
					last, ok = append(last, "none"), false
					continue
				}
				last = append(last, fmt.Sprint(*st.Watermark))
				ok = ok && *st.Watermark == want
			}
		}
		return ok && len(last) > 0
	}, 3*time.Minute, 100*time.Millisecond, "vertex %s of job %s never reached watermark %d (last seen %v)\n%s", v, id, want, last, s.logs())
}

// TestWindowsEndToEnd runs keyed tumbling, sliding and session counts over the
// same 60,000 out-of-order records in standalone, stops them with drain, and
// compares every (key, window) count with the ones computed here.
func TestWindowsEndToEnd(t *testing.T) {
	s := startStandalone(t, t.TempDir(), "--slots", "8")
	_, err := s.js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "WIN", Subjects: []string{"win.*"}, Storage: jetstream.FileStorage})
	require.NoError(t, err)
	const n, keys = 60000, 20
	subjects, payloads, keyOf, tsOf := windowEvents(n, keys)
	jobs := []struct {
		name, window string
		want         map[winKey]int
	}{
		{"tumbling", "{ tumbling: 10s }", expectedSliding(keyOf, tsOf, 10_000, 10_000)},
		{"sliding", "{ sliding: { size: 10s, slide: 2s } }", expectedSliding(keyOf, tsOf, 10_000, 2_000)},
		{"session", "{ session: { gap: 1s } }", expectedSessions(keyOf, tsOf, 1_000)},
	}
	ids := map[string]string{}
	for _, j := range jobs {
		s.stream("WOUT_"+strings.ToUpper(j.name), "wout."+j.name)
		ids[j.name] = s.submit(windowJob("win-"+j.name, j.window, "wout."+j.name, "at_least_once"))
	}
	for _, id := range ids {
		s.waitStatus(id, "RUNNING", time.Minute)
	}
	s.publishTo(subjects, payloads)
	for _, j := range jobs {
		id := ids[j.name]
		// Every record was read; the clock is short of the last windows' ends:
		// the drain fires them.
		waitWatermark(t, s, id, "counts", lastWatermark(keyOf, tsOf))
		stopDrained(t, s, id)
		got := windowResults(t, s, "WOUT_"+strings.ToUpper(j.name))
		requireWindows(t, j.want, got)
		t.Logf("%s: all %d window counts exact", j.name, len(got))
	}
}

// TestWindowsExactlyOnceAfterWorkerLoss runs the keyed tumbling count on two
// workers with checkpoints every second and an exactly-once sink, SIGKILLs a
// worker mid-stream, and checks that every (key, window) result appears exactly
// once with the exact count.
func TestWindowsExactlyOnceAfterWorkerLoss(t *testing.T) {
	c := startCluster(t, 2, 4, "--heartbeat-timeout", "3s")
	s := c.control
	_, err := s.js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "WIN", Subjects: []string{"win.*"}, Storage: jetstream.FileStorage})
	require.NoError(t, err)
	s.stream("WOUT", "wout")
	const n, keys = 60000, 20
	subjects, payloads, keyOf, tsOf := windowEvents(n, keys)
	s.publishTo(subjects[:n/3], payloads[:n/3])
	id := s.submit(windowJob("win-eo", "{ tumbling: 10s }", "wout", "exactly_once"))
	j := waitAttempt(t, s, id, 0, time.Minute)
	s.waitCount("WOUT", 50, 2*time.Minute)
	c.killMidStream(id, j, workerOf(j, ""), subjects[n/3:], payloads[n/3:])
	waitWatermark(t, s, id, "counts", lastWatermark(keyOf, tsOf))
	stopDrained(t, s, id)
	requireWindows(t, expectedSliding(keyOf, tsOf, 10_000, 10_000), windowResults(t, s, "WOUT"))
}

// killMidStream publishes the rest of a job's input in slices and, after two
// completed checkpoints, SIGKILLs worker victim while they flow; it returns
// once the job runs again from a checkpoint no older than the one before the
// kill and every record is published.
func (c *cluster) killMidStream(id string, j *client.Job, victim string, subjects []string, payloads [][]byte) {
	t, s, n := c.t, c.control, len(payloads)
	t.Helper()
	published := make(chan struct{})
	go func() {
		defer close(published)
		for i := 0; i < n; i += n / 20 {
			s.publishTo(subjects[i:min(n, i+n/20)], payloads[i:min(n, i+n/20)])
			time.Sleep(100 * time.Millisecond)
		}
	}()
	ckpt := c.waitCheckpoint(id, c.waitCheckpoint(id, 0, time.Minute), time.Minute)
	c.workers[victim].kill()
	midStream := "while records were being published"
	select {
	case <-published:
		midStream = "after the last record was published" // a slow machine; still before they were all read
	default:
	}
	j = waitAttempt(t, s, id, j.Attempt, 2*time.Minute)
	l := c.checkpoints(id)
	require.GreaterOrEqual(t, l.Restores[len(l.Restores)-1].Checkpoint, ckpt)
	t.Logf("killed %s after checkpoint %d, %s; attempt %d restored checkpoint %d", victim, ckpt, midStream, j.Attempt, l.Restores[len(l.Restores)-1].Checkpoint)
	<-published
}

// clickEvents are n clicks of users u0..u(users-1) on pages p0..p4, in event-time
// order per user (a user's clicks are in one partition), with pauses of 1.5 s
// to 3 s now and then: inputs for sessions, top-N and idle timers.
func clickEvents(n, users int) (subjects []string, payloads [][]byte, userOf []string, tsOf []int64, pageOf []string, priceOf []int64) {
	rng := rand.New(rand.NewPCG(3, 5))
	ts := int64(winBase)
	for i := range n {
		ts += rng.Int64N(20)
		if rng.IntN(400) == 0 {
			ts += 1500 + rng.Int64N(1500)
		}
		u := rng.IntN(users)
		page := fmt.Sprintf("p%d", rng.IntN(5))
		price := rng.Int64N(1000)
		subjects = append(subjects, fmt.Sprintf("clk.%d", u%2))
		payloads = append(payloads, fmt.Appendf(nil, `{"user":"u%d","page":"%s","item":"i%d","price":%d,"ts":%d}`, u, page, i, price, ts))
		userOf, tsOf, pageOf, priceOf = append(userOf, fmt.Sprintf("u%d", u)), append(tsOf, ts), append(pageOf, page), append(priceOf, price)
	}
	return
}

// TestWindowFunctionsEndToEnd runs the Go windows example in standalone: a
// sessionized clickstream with the session_stats aggregate, the top three
// prices of every 10 s window with the top3 window process function, and the
// timeout process function's event-time timers; each output is compared with
// one computed here.
func TestWindowFunctionsEndToEnd(t *testing.T) {
	s := startStandalone(t, t.TempDir(), "--slots", "8")
	s.upload("windows", "windows.wasm")
	_, err := s.js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "CLK", Subjects: []string{"clk.*"}, Storage: jetstream.FileStorage})
	require.NoError(t, err)
	const n, users = 20000, 10
	subjects, payloads, userOf, tsOf, pageOf, priceOf := clickEvents(n, users)
	source := `parallelism: 2
checkpointing: { interval: 1s }
pipeline:
  - id: clicks
    source:
      jetstream: { stream: CLK, subjects: ["clk.*"], partitions: { count: 2, token: 2 } }
    timestamps: { json_field: ts, max_out_of_orderness: 100ms }
`
	jobs := map[string]string{
		"sessions": "name: sessions\n" + source + `  - id: by-user
    key_by: { json_field: user }
  - id: stats
    window: { session: { gap: 1s } }
    aggregate: { module: windows, function: session_stats }
  - id: out
    sink: { jetstream: { subject: fout.sessions } }
`,
		"top": "name: top\n" + source + `  - id: top
    window: { tumbling: 10s }
    process: { module: windows, function: top3 }
  - id: out
    sink: { jetstream: { subject: fout.top } }
`,
		"extracted": "name: extracted\n" + strings.Replace(source, "json_field: ts,", "udf: { module: windows, function: event_time },", 1) + `  - id: by-user
    key_by: { json_field: user }
  - id: counts
    window: { tumbling: 10s }
    aggregate: { builtin: count }
  - id: out
    sink: { jetstream: { subject: fout.extracted } }
`,
		"idle": "name: idle\n" + source + `  - id: by-user
    key_by: { json_field: user }
  - id: idle
    process: { module: windows, function: timeout }
  - id: out
    sink: { jetstream: { subject: fout.idle } }
`,
	}
	ids := map[string]string{}
	for name, spec := range jobs {
		s.stream("FOUT_"+strings.ToUpper(name), "fout."+name)
		ids[name] = s.submit(spec)
	}
	for _, id := range ids {
		s.waitStatus(id, "RUNNING", time.Minute)
	}
	s.publishTo(subjects, payloads)
	var maxTS [2]int64
	for i, u := range userOf {
		k, _ := strconv.Atoi(u[1:])
		maxTS[k%2] = max(maxTS[k%2], tsOf[i])
	}
	last := min(maxTS[0], maxTS[1]) - 100 - 1
	for name, v := range map[string]string{"sessions": "stats", "top": "top", "idle": "idle", "extracted": "counts"} {
		waitWatermark(t, s, ids[name], v, last)
		stopDrained(t, s, ids[name])
	}

	// Sessions: per user, clicks and distinct pages of each run of clicks at most
	// 1 s apart.
	type session struct {
		clicks int
		pages  map[string]bool
	}
	want := map[winKey]string{}
	perUser := map[string][]int{}
	for i, u := range userOf {
		perUser[u] = append(perUser[u], i)
	}
	for u, idx := range perUser {
		start, cur := tsOf[idx[0]], &session{pages: map[string]bool{}}
		flush := func(end int64) {
			want[winKey{u, start, end}] = fmt.Sprintf(`{"clicks":%d,"pages":%d}`, cur.clicks, len(cur.pages))
		}
		for j, i := range idx {
			if j > 0 && tsOf[i]-tsOf[idx[j-1]] > 1000 {
				flush(tsOf[idx[j-1]] + 1000)
				start, cur = tsOf[i], &session{pages: map[string]bool{}}
			}
			cur.clicks++
			cur.pages[pageOf[i]] = true
		}
		flush(tsOf[idx[len(idx)-1]] + 1000)
	}
	got := map[winKey]string{}
	s.forEach("FOUT_SESSIONS", func(m jetstream.Msg) {
		ts, _ := strconv.ParseInt(m.Headers().Get("Weir-Timestamp"), 10, 64)
		var key string
		require.NoError(t, json.Unmarshal([]byte(m.Headers().Get("Weir-Key")), &key))
		// The result carries no bounds: the session ends at its timestamp + 1.
		k := winKey{Key: key, End: ts + 1}
		for w := range want {
			if w.Key == key && w.End == ts+1 {
				k.Start = w.Start
			}
		}
		require.NotContains(t, got, k, "session %s twice", k)
		got[k] = string(m.Data())
	})
	require.Equal(t, len(want), len(got), "sessions")
	for k, v := range want {
		require.Equal(t, v, got[k], "session %s", k)
	}

	// Top three prices of every 10 s window (ties to the smaller item).
	type it struct {
		item  string
		price int64
	}
	windows := map[int64][]it{}
	for i, ts := range tsOf {
		start := ts - ts%10_000
		windows[start] = append(windows[start], it{fmt.Sprintf("i%d", i), priceOf[i]})
	}
	wantTop := map[int64]string{}
	for start, items := range windows {
		sort.Slice(items, func(a, b int) bool {
			if items[a].price != items[b].price {
				return items[a].price > items[b].price
			}
			return items[a].item < items[b].item
		})
		var parts []string
		for _, x := range items[:min(3, len(items))] {
			parts = append(parts, fmt.Sprintf(`{"item":"%s","price":%d}`, x.item, x.price))
		}
		wantTop[start] = fmt.Sprintf(`{"window_start":%d,"window_end":%d,"top":[%s]}`, start, start+10_000, strings.Join(parts, ","))
	}
	gotTop := map[int64]string{}
	s.forEach("FOUT_TOP", func(m jetstream.Msg) {
		var r struct {
			WindowStart int64 `json:"window_start"`
		}
		require.NoError(t, json.Unmarshal(m.Data(), &r))
		require.NotContains(t, gotTop, r.WindowStart)
		gotTop[r.WindowStart] = string(m.Data())
	})
	require.Equal(t, wantTop, gotTop)

	// Idle timers: a user can be reported only after a pause longer than 1 s,
	// and is reported after its last click (the drain fires every timer). Which
	// pauses are reported depends on when watermarks arrive (every 200 ms of
	// the source's wall clock): a click read before the watermark passes the
	// pause moves the deadline, as in Flink.
	pauses, lastClicks := map[string]bool{}, map[string]bool{}
	var gotIdle []string
	for u, idx := range perUser {
		for j, i := range idx {
			r := fmt.Sprintf("%s@%d", u, tsOf[i])
			if j == len(idx)-1 {
				lastClicks[r] = true
			}
			if j == len(idx)-1 || tsOf[idx[j+1]]-tsOf[i] > 1000 {
				pauses[r] = true
			}
		}
	}
	s.forEach("FOUT_IDLE", func(m jetstream.Msg) {
		var r struct {
			Key       string `json:"key"`
			IdleSince int64  `json:"idle_since"`
		}
		require.NoError(t, json.Unmarshal(m.Data(), &r), "%s", m.Data())
		gotIdle = append(gotIdle, fmt.Sprintf("%s@%d", r.Key, r.IdleSince))
	})
	seen := map[string]bool{}
	for _, r := range gotIdle {
		require.True(t, pauses[r], "%s reported, but no pause of over 1 s follows that click", r)
		require.False(t, seen[r], "%s reported twice", r)
		seen[r] = true
	}
	for r := range lastClicks {
		require.True(t, seen[r], "the last click %s was never reported", r)
	}
	// Event time from the event_time extractor: the same counts as from json_field.
	requireWindows(t, expectedSliding(userOf, tsOf, 10_000, 10_000), windowResults(t, s, "FOUT_EXTRACTED"))
	t.Logf("%d sessions, %d top-3 windows, %d idle reports, extracted-time counts: all exact", len(got), len(gotTop), len(gotIdle))
}

// TestLateRecordsAndIdlePartitions sends records later than their windows'
// lateness to the late side output, read by a sink of its own, and shows that an
// idle partition stops holding event time back: of three partitions only two
// get records, and the windows still fire.
func TestLateRecordsAndIdlePartitions(t *testing.T) {
	s := startStandalone(t, t.TempDir())
	_, err := s.js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "LATE", Subjects: []string{"late.*"}, Storage: jetstream.FileStorage})
	require.NoError(t, err)
	s.stream("LOUT", "lout.counts")
	s.stream("LLATE", "lout.late")
	id := s.submit(`name: late
parallelism: 3
pipeline:
  - id: events
    source:
      jetstream: { stream: LATE, subjects: ["late.*"], partitions: { count: 3, token: 2 } }
    timestamps: { json_field: ts, idle_timeout: 500ms }
  - id: by-key
    key_by: { json_field: key }
  - id: counts
    window: { tumbling: 1s, allowed_lateness: 1s, late_output: too-late }
    aggregate: { builtin: count }
  - id: out
    sink: { jetstream: { subject: lout.counts } }
  - id: late-records
    input: counts#too-late
    sink: { jetstream: { subject: lout.late } }
`)
	s.waitStatus(id, "RUNNING", time.Minute)
	// Partitions 0 and 1 get records up to 10 s; partition 2 gets none.
	var subjects []string
	var payloads [][]byte
	for i := range 100 {
		subjects = append(subjects, fmt.Sprintf("late.%d", i%2))
		payloads = append(payloads, fmt.Appendf(nil, `{"key":"k%d","ts":%d}`, i%2, winBase+int64(i)*100))
	}
	s.publishTo(subjects, payloads)
	// The windows up to [8 s, 9 s) fire although partition 2 never sent a record.
	s.waitCount("LOUT", 2*9, time.Minute)
	// A record 5 s behind the watermark (past the 1 s lateness) goes to the side output.
	s.publishTo([]string{"late.0"}, [][]byte{fmt.Appendf(nil, `{"key":"k0","ts":%d,"late":true}`, winBase+4_000)})
	s.waitCount("LLATE", 1, time.Minute)
	got := s.readAll("LLATE")
	require.Equal(t, []string{fmt.Sprintf(`{"key":"k0","ts":%d,"late":true}`, winBase+4_000)}, got)
	j := s.job(id)
	var late int64
	for _, v := range j.Plan.Vertices {
		for _, st := range v.Subtasks {
			late += st.LateRecords
		}
	}
	require.Equal(t, int64(1), late, "late records counted")
	for _, r := range s.readAll("LOUT") {
		require.NotContains(t, r, `"window_start":1700000004000,"window_end":1700000005000,"count":6`, "a late record changed a window past its lateness")
	}
}
