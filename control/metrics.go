package control

import (
	"math"
	"sort"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// jobMetrics is one job as the collector reads it: its record and the status of
// each of its subtasks by vertex, the same snapshot GET /api/v1/jobs/{id} shows.
type jobMetrics struct {
	rec      JobRecord
	subtasks map[string][]SubtaskStatus
}

// metricsSource is what the collector reads at scrape time. *Control is one; tests
// use a hand-written fake.
type metricsSource interface {
	metricsJobs() []jobMetrics
	metricsWorkers() []WorkerStatus
}

func (c *Control) metricsJobs() []jobMetrics {
	c.mu.Lock()
	masters := make([]*jobMaster, 0, len(c.jobs))
	for _, jm := range c.jobs {
		masters = append(masters, jm)
	}
	c.mu.Unlock()
	out := make([]jobMetrics, 0, len(masters))
	for _, jm := range masters {
		rec, subtasks := jm.status()
		out = append(out, jobMetrics{rec: rec, subtasks: subtasks})
	}
	return out
}

func (c *Control) metricsWorkers() []WorkerStatus { return c.slots.list() }

// collector exports the control plane's view of jobs, subtasks and workers at
// scrape time, from the job masters and the slot manager (no per-record work).
// Subtask series carry the labels job_id, job_name, vertex and subtask (not job,
// which Prometheus sets to the scrape job),
// and exist only while the job is not in a terminal state.
type collector struct {
	src metricsSource

	jobs     *prometheus.Desc
	jobInfo  *prometheus.Desc
	restarts *prometheus.Desc

	recordsIn    *prometheus.Desc
	recordsOut   *prometheus.Desc
	bytesIn      *prometheus.Desc
	bytesOut     *prometheus.Desc
	buffers      *prometheus.Desc
	backpressure *prometheus.Desc
	busy         *prometheus.Desc
	watermark    *prometheus.Desc
	late         *prometheus.Desc
	invalidTS    *prometheus.Desc
	exchangeOut  *prometheus.Desc
	inputQueued  *prometheus.Desc
	inputCredit  *prometheus.Desc
	wasmCall     *prometheus.Desc
	wasmMemory   *prometheus.Desc
	keyedNull    *prometheus.Desc

	slots     *prometheus.Desc
	slotsUsed *prometheus.Desc
	tasks     *prometheus.Desc
	memory    *prometheus.Desc
	heartbeat *prometheus.Desc
}

func newCollector(c *Control) *collector { return newCollectorFrom(c) }

func newCollectorFrom(src metricsSource) *collector {
	job := []string{"job_id", "job_name"}
	sub := []string{"job_id", "job_name", "vertex", "subtask"}
	worker := []string{"worker"}
	return &collector{
		src:      src,
		jobs:     prometheus.NewDesc("weir_jobs", "Jobs by status.", []string{"status"}, nil),
		jobInfo:  prometheus.NewDesc("weir_job_info", "1 for each job, with its status as a label.", append(job, "status"), nil),
		restarts: prometheus.NewDesc("weir_job_restarts_total", "Times a job has been deployed again after its first deployment.", job, nil),

		recordsIn:    prometheus.NewDesc("weir_subtask_records_in_total", "Records a subtask has read, as of its worker's last heartbeat.", sub, nil),
		recordsOut:   prometheus.NewDesc("weir_subtask_records_out_total", "Records a subtask has written, as of its worker's last heartbeat.", sub, nil),
		bytesIn:      prometheus.NewDesc("weir_subtask_bytes_in_total", "Bytes a subtask has received from its input channels.", sub, nil),
		bytesOut:     prometheus.NewDesc("weir_subtask_bytes_out_total", "Bytes a subtask has sent to its output channels.", sub, nil),
		buffers:      prometheus.NewDesc("weir_subtask_buffers_in_flight", "Buffers a subtask has sent that its receivers have not taken yet.", sub, nil),
		backpressure: prometheus.NewDesc("weir_subtask_backpressure_ratio", "Share (0..1) of the last measuring interval the subtask waited for downstream capacity.", sub, nil),
		busy:         prometheus.NewDesc("weir_subtask_busy_ratio", "Share (0..1) of the last measuring interval the subtask spent working.", sub, nil),
		exchangeOut:  prometheus.NewDesc("weir_subtask_exchange_bytes_out_total", "Bytes a subtask has sent to subtasks in other worker processes over NATS.", sub, nil),
		inputQueued:  prometheus.NewDesc("weir_subtask_input_queued_buffers", "Buffers from other worker processes waiting in a subtask's input.", sub, nil),
		inputCredit:  prometheus.NewDesc("weir_subtask_input_credit_buffers", "Buffers from other worker processes a subtask's input has room for (queued plus outstanding credit); queued never exceeds it.", sub, nil),
		wasmCall:     prometheus.NewDesc("weir_subtask_wasm_call_seconds_total", "Time a subtask's UDF instances have spent in Wasm calls.", sub, nil),
		wasmMemory:   prometheus.NewDesc("weir_subtask_wasm_memory_bytes", "Size of a subtask's UDF instances' linear memories.", sub, nil),
		keyedNull:    prometheus.NewDesc("weir_subtask_keyed_null_total", "Records a key_by by JSON field keyed null because the field was missing or unusable.", sub, nil),
		late:         prometheus.NewDesc("weir_subtask_late_records_total", "Records that came after their windows' allowed lateness: sent to the late side output, or dropped.", sub, nil),
		invalidTS:    prometheus.NewDesc("weir_subtask_invalid_timestamps_total", "Records dropped because their timestamp field was missing or unusable.", sub, nil),
		watermark:    prometheus.NewDesc("weir_subtask_watermark_seconds", "The subtask's event-time clock as a Unix time; absent until event time exists. Watermark lag is time() minus this.", sub, nil),

		slots:     prometheus.NewDesc("weir_worker_slots", "Task slots a worker offers.", worker, nil),
		slotsUsed: prometheus.NewDesc("weir_worker_slots_used", "Task slots in use on a worker.", worker, nil),
		tasks:     prometheus.NewDesc("weir_worker_tasks", "Subtasks running on a worker.", worker, nil),
		memory:    prometheus.NewDesc("weir_worker_memory_bytes", "A worker process's heap in use plus its Wasm instances' memory.", worker, nil),
		heartbeat: prometheus.NewDesc("weir_worker_last_heartbeat_seconds", "When the control plane last heard from a worker, as a Unix time; absent before the first heartbeat.", worker, nil),
	}
}

func (m *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		m.jobs, m.jobInfo, m.restarts,
		m.recordsIn, m.recordsOut, m.bytesIn, m.bytesOut, m.buffers, m.backpressure, m.busy, m.watermark, m.late, m.invalidTS,
		m.exchangeOut, m.inputQueued, m.inputCredit, m.wasmCall, m.wasmMemory, m.keyedNull,
		m.slots, m.slotsUsed, m.tasks, m.memory, m.heartbeat,
	} {
		ch <- d
	}
}

func (m *collector) Collect(ch chan<- prometheus.Metric) {
	byStatus := map[string]int{}
	for _, j := range m.src.metricsJobs() {
		rec := j.rec
		byStatus[rec.Status]++
		ch <- prometheus.MustNewConstMetric(m.jobInfo, prometheus.GaugeValue, 1, rec.ID, rec.Name, rec.Status)
		var restarts uint64
		if rec.Attempt > 1 {
			restarts = rec.Attempt - 1
		}
		ch <- prometheus.MustNewConstMetric(m.restarts, prometheus.CounterValue, float64(restarts), rec.ID, rec.Name)
		if isTerminal(rec.Status) {
			continue
		}
		vertices := make([]string, 0, len(j.subtasks))
		for v := range j.subtasks {
			vertices = append(vertices, v)
		}
		sort.Strings(vertices)
		for _, vertex := range vertices {
			for _, st := range j.subtasks[vertex] {
				labels := []string{rec.ID, rec.Name, vertex, strconv.Itoa(st.Index)}
				counter := func(d *prometheus.Desc, v uint64) {
					ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
				}
				gauge := func(d *prometheus.Desc, v float64) {
					ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
				}
				counter(m.recordsIn, st.RecordsIn)
				counter(m.recordsOut, st.RecordsOut)
				counter(m.bytesIn, st.BytesIn)
				counter(m.bytesOut, st.BytesOut)
				gauge(m.buffers, float64(st.BuffersInFlight))
				gauge(m.backpressure, st.Backpressure)
				gauge(m.busy, st.Busy)
				counter(m.exchangeOut, st.ExchangeBytesOut)
				gauge(m.inputQueued, float64(st.InputQueued))
				gauge(m.inputCredit, float64(st.InputCredit))
				ch <- prometheus.MustNewConstMetric(m.wasmCall, prometheus.CounterValue, st.WasmCallSeconds, labels...)
				gauge(m.wasmMemory, float64(st.WasmMemoryBytes))
				counter(m.keyedNull, st.KeyedNull)
				if st.Watermark != nil && *st.Watermark != math.MinInt64 && *st.Watermark != math.MaxInt64 {
					gauge(m.watermark, float64(*st.Watermark)/1000)
				}
				counter(m.late, st.LateRecords)
				counter(m.invalidTS, st.InvalidTimestamps)
			}
		}
	}
	for _, s := range []string{StatusCreated, StatusRunning, StatusFailing, StatusRestarting, StatusCanceled, StatusFinished, StatusFailed} {
		ch <- prometheus.MustNewConstMetric(m.jobs, prometheus.GaugeValue, float64(byStatus[s]), s)
	}
	for _, w := range m.src.metricsWorkers() {
		ch <- prometheus.MustNewConstMetric(m.slots, prometheus.GaugeValue, float64(w.Slots), w.ID)
		ch <- prometheus.MustNewConstMetric(m.slotsUsed, prometheus.GaugeValue, float64(w.SlotsUsed), w.ID)
		ch <- prometheus.MustNewConstMetric(m.tasks, prometheus.GaugeValue, float64(w.Tasks), w.ID)
		ch <- prometheus.MustNewConstMetric(m.memory, prometheus.GaugeValue, float64(w.MemoryBytes), w.ID)
		if !w.LastHeartbeat.IsZero() {
			ch <- prometheus.MustNewConstMetric(m.heartbeat, prometheus.GaugeValue, float64(w.LastHeartbeat.UnixNano())/1e9, w.ID)
		}
	}
}
