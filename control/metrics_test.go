package control

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

// fakeMetrics is a fixed snapshot of jobs and workers.
type fakeMetrics struct {
	jobs    []jobMetrics
	workers []WorkerStatus
}

func (f fakeMetrics) metricsJobs() []jobMetrics      { return f.jobs }
func (f fakeMetrics) metricsWorkers() []WorkerStatus { return f.workers }

func TestCollectorNamesAndLabels(t *testing.T) {
	src := fakeMetrics{
		jobs: []jobMetrics{
			{
				rec: JobRecord{ID: "j1", Name: "orders", Status: StatusRunning, Attempt: 3},
				subtasks: map[string][]SubtaskStatus{
					"enrich": {{Index: 1, Worker: "w1", Status: "RUNNING", RecordsIn: 10, RecordsOut: 8, BytesIn: 1000, BytesOut: 800,
						BuffersInFlight: 2, Backpressure: 0.25, Busy: 0.5, Watermark: ptr(int64(1_700_000_000_500)), LateRecords: 2,
						ExchangeBytesOut: 700, InputQueued: 3, InputCredit: 16, WasmCallSeconds: 1.5, WasmMemoryBytes: 2 << 20, KeyedNull: 4}},
				},
			},
			// A terminal job keeps its info and restarts but has no subtask series.
			{rec: JobRecord{ID: "j0", Name: "old", Status: StatusCanceled, Attempt: 1},
				subtasks: map[string][]SubtaskStatus{"src": {{Index: 0, RecordsIn: 5}}}},
		},
		workers: []WorkerStatus{{ID: "w1", Slots: 4, SlotsUsed: 2, Tasks: 3, MemoryBytes: 1 << 20, LastHeartbeat: time.Unix(1_700_000_100, 0)}},
	}
	const want = `
# HELP weir_job_info 1 for each job, with its status as a label.
# TYPE weir_job_info gauge
weir_job_info{job_id="j0",job_name="old",status="CANCELED"} 1
weir_job_info{job_id="j1",job_name="orders",status="RUNNING"} 1
# HELP weir_job_restarts_total Times a job has been deployed again after its first deployment.
# TYPE weir_job_restarts_total counter
weir_job_restarts_total{job_id="j0",job_name="old"} 0
weir_job_restarts_total{job_id="j1",job_name="orders"} 2
# HELP weir_jobs Jobs by status.
# TYPE weir_jobs gauge
weir_jobs{status="CANCELED"} 1
weir_jobs{status="CREATED"} 0
weir_jobs{status="FAILED"} 0
weir_jobs{status="FAILING"} 0
weir_jobs{status="FINISHED"} 0
weir_jobs{status="RESTARTING"} 0
weir_jobs{status="RUNNING"} 1
# HELP weir_subtask_backpressure_ratio Share (0..1) of the last measuring interval the subtask waited for downstream capacity.
# TYPE weir_subtask_backpressure_ratio gauge
weir_subtask_backpressure_ratio{job_id="j1",job_name="orders",subtask="1",vertex="enrich"} 0.25
# HELP weir_subtask_buffers_in_flight Buffers a subtask has sent that its receivers have not taken yet.
# TYPE weir_subtask_buffers_in_flight gauge
weir_subtask_buffers_in_flight{job_id="j1",job_name="orders",subtask="1",vertex="enrich"} 2
# HELP weir_subtask_busy_ratio Share (0..1) of the last measuring interval the subtask spent working.
# TYPE weir_subtask_busy_ratio gauge
weir_subtask_busy_ratio{job_id="j1",job_name="orders",subtask="1",vertex="enrich"} 0.5
# HELP weir_subtask_bytes_in_total Bytes a subtask has received from its input channels.
# TYPE weir_subtask_bytes_in_total counter
weir_subtask_bytes_in_total{job_id="j1",job_name="orders",subtask="1",vertex="enrich"} 1000
# HELP weir_subtask_bytes_out_total Bytes a subtask has sent to its output channels.
# TYPE weir_subtask_bytes_out_total counter
weir_subtask_bytes_out_total{job_id="j1",job_name="orders",subtask="1",vertex="enrich"} 800
# HELP weir_subtask_exchange_bytes_out_total Bytes a subtask has sent to subtasks in other worker processes over NATS.
# TYPE weir_subtask_exchange_bytes_out_total counter
weir_subtask_exchange_bytes_out_total{job_id="j1",job_name="orders",subtask="1",vertex="enrich"} 700
# HELP weir_subtask_input_credit_buffers Buffers from other worker processes a subtask's input has room for (queued plus outstanding credit); queued never exceeds it.
# TYPE weir_subtask_input_credit_buffers gauge
weir_subtask_input_credit_buffers{job_id="j1",job_name="orders",subtask="1",vertex="enrich"} 16
# HELP weir_subtask_input_queued_buffers Buffers from other worker processes waiting in a subtask's input.
# TYPE weir_subtask_input_queued_buffers gauge
weir_subtask_input_queued_buffers{job_id="j1",job_name="orders",subtask="1",vertex="enrich"} 3
# HELP weir_subtask_invalid_timestamps_total Records dropped because their timestamp field was missing or unusable.
# TYPE weir_subtask_invalid_timestamps_total counter
weir_subtask_invalid_timestamps_total{job_id="j1",job_name="orders",subtask="1",vertex="enrich"} 0
# HELP weir_subtask_keyed_null_total Records a key_by by JSON field keyed null because the field was missing or unusable.
# TYPE weir_subtask_keyed_null_total counter
weir_subtask_keyed_null_total{job_id="j1",job_name="orders",subtask="1",vertex="enrich"} 4
# HELP weir_subtask_late_records_total Records that came after their windows' allowed lateness: sent to the late side output, or dropped.
# TYPE weir_subtask_late_records_total counter
weir_subtask_late_records_total{job_id="j1",job_name="orders",subtask="1",vertex="enrich"} 2
# HELP weir_subtask_records_in_total Records a subtask has read, as of its worker's last heartbeat.
# TYPE weir_subtask_records_in_total counter
weir_subtask_records_in_total{job_id="j1",job_name="orders",subtask="1",vertex="enrich"} 10
# HELP weir_subtask_records_out_total Records a subtask has written, as of its worker's last heartbeat.
# TYPE weir_subtask_records_out_total counter
weir_subtask_records_out_total{job_id="j1",job_name="orders",subtask="1",vertex="enrich"} 8
# HELP weir_subtask_wasm_call_seconds_total Time a subtask's UDF instances have spent in Wasm calls.
# TYPE weir_subtask_wasm_call_seconds_total counter
weir_subtask_wasm_call_seconds_total{job_id="j1",job_name="orders",subtask="1",vertex="enrich"} 1.5
# HELP weir_subtask_wasm_memory_bytes Size of a subtask's UDF instances' linear memories.
# TYPE weir_subtask_wasm_memory_bytes gauge
weir_subtask_wasm_memory_bytes{job_id="j1",job_name="orders",subtask="1",vertex="enrich"} 2.097152e+06
# HELP weir_subtask_watermark_seconds The subtask's event-time clock as a Unix time; absent until event time exists. Watermark lag is time() minus this.
# TYPE weir_subtask_watermark_seconds gauge
weir_subtask_watermark_seconds{job_id="j1",job_name="orders",subtask="1",vertex="enrich"} 1.7000000005e+09
# HELP weir_worker_last_heartbeat_seconds When the control plane last heard from a worker, as a Unix time; absent before the first heartbeat.
# TYPE weir_worker_last_heartbeat_seconds gauge
weir_worker_last_heartbeat_seconds{worker="w1"} 1.7000001e+09
# HELP weir_worker_memory_bytes A worker process's heap in use plus its Wasm instances' memory.
# TYPE weir_worker_memory_bytes gauge
weir_worker_memory_bytes{worker="w1"} 1.048576e+06
# HELP weir_worker_slots Task slots a worker offers.
# TYPE weir_worker_slots gauge
weir_worker_slots{worker="w1"} 4
# HELP weir_worker_slots_used Task slots in use on a worker.
# TYPE weir_worker_slots_used gauge
weir_worker_slots_used{worker="w1"} 2
# HELP weir_worker_tasks Subtasks running on a worker.
# TYPE weir_worker_tasks gauge
weir_worker_tasks{worker="w1"} 3
`
	c := newCollectorFrom(src)
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want)))

	// The registry accepts the collector: descriptions and metrics agree.
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	_, err := reg.Gather()
	require.NoError(t, err)
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want)))
}

// Every metric a subtask has is labelled job_id, job_name, vertex, subtask: the same
// labels the dashboard in deploy/grafana uses.
func TestCollectorSubtaskLabels(t *testing.T) {
	src := fakeMetrics{jobs: []jobMetrics{{
		rec:      JobRecord{ID: "j1", Name: "n", Status: StatusRunning, Attempt: 1},
		subtasks: map[string][]SubtaskStatus{"v": {{Index: 0}}},
	}}}
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(newCollectorFrom(src)))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	n := 0
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "weir_subtask_") {
			continue
		}
		n++
		for _, m := range mf.GetMetric() {
			var names []string
			for _, l := range m.GetLabel() {
				names = append(names, l.GetName())
			}
			require.Equal(t, []string{"job_id", "job_name", "subtask", "vertex"}, names, mf.GetName())
		}
	}
	require.Equal(t, 15, n, "records in/out, bytes in/out, buffers in flight, backpressure, busy, exchange bytes out, input queued and credit, Wasm call time and memory, keyed null, late records, invalid timestamps (watermark only once set)")
}

// The Grafana dashboard in deploy/grafana queries only metrics the collector
// exports, so renaming one breaks this test and not a user's dashboard.
func TestGrafanaDashboardUsesExportedMetrics(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "deploy", "grafana", "weir-dashboard.json"))
	require.NoError(t, err)
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(b, &dash))
	known := map[string]bool{}
	ch := make(chan *prometheus.Desc, 64)
	newCollectorFrom(fakeMetrics{}).Describe(ch)
	close(ch)
	descName := regexp.MustCompile(`fqName: "([a-z_]+)"`)
	for d := range ch {
		known[descName.FindStringSubmatch(d.String())[1]] = true
	}
	used := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			names := regexp.MustCompile(`weir_[a-z_]+`).FindAllString(tg.Expr, -1)
			require.NotEmpty(t, names, "panel %q queries no weir metric: %s", p.Title, tg.Expr)
			for _, n := range names {
				require.True(t, known[n], "panel %q queries %s, which /metrics does not export", p.Title, n)
				used++
			}
		}
	}
	require.Greater(t, used, 10)
}

func ptr[T any](v T) *T { return &v }
