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
	// The rest arrives in slices while a worker dies.
	published := make(chan struct{})
	go func() {
		defer close(published)
		for i := n / 3; i < n; i += n / 30 {
			s.publishTo(subjects[i:min(n, i+n/30)], payloads[i:min(n, i+n/30)])
			time.Sleep(100 * time.Millisecond)
		}
	}()
	ckpt := c.waitCheckpoint(id, c.waitCheckpoint(id, 0, time.Minute), time.Minute)
	victim := workerOf(j, "")
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
	waitWatermark(t, s, id, "counts", lastWatermark(keyOf, tsOf))
	stopDrained(t, s, id)
	requireWindows(t, expectedSliding(keyOf, tsOf, 10_000, 10_000), windowResults(t, s, "WOUT"))
}
