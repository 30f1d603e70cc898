package control

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// collector exports the control plane's view of jobs, subtasks and workers at
// scrape time, from the job masters and the slot manager (no per-record work).
type collector struct {
	c *Control

	jobs       *prometheus.Desc
	recordsIn  *prometheus.Desc
	recordsOut *prometheus.Desc
	slots      *prometheus.Desc
	slotsUsed  *prometheus.Desc
}

func newCollector(c *Control) *collector {
	sub := []string{"job", "job_name", "vertex", "subtask"}
	return &collector{
		c:          c,
		jobs:       prometheus.NewDesc("weir_jobs", "Jobs by status.", []string{"status"}, nil),
		recordsIn:  prometheus.NewDesc("weir_subtask_records_in_total", "Records a subtask has read, as of its worker's last heartbeat.", sub, nil),
		recordsOut: prometheus.NewDesc("weir_subtask_records_out_total", "Records a subtask has written, as of its worker's last heartbeat.", sub, nil),
		slots:      prometheus.NewDesc("weir_worker_slots", "Task slots a worker offers.", []string{"worker"}, nil),
		slotsUsed:  prometheus.NewDesc("weir_worker_slots_used", "Task slots in use on a worker.", []string{"worker"}, nil),
	}
}

func (m *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.jobs, m.recordsIn, m.recordsOut, m.slots, m.slotsUsed} {
		ch <- d
	}
}

func (m *collector) Collect(ch chan<- prometheus.Metric) {
	byStatus := map[string]int{}
	m.c.mu.Lock()
	masters := make([]*jobMaster, 0, len(m.c.jobs))
	for _, jm := range m.c.jobs {
		masters = append(masters, jm)
	}
	m.c.mu.Unlock()
	for _, jm := range masters {
		rec, subtasks := jm.status()
		byStatus[rec.Status]++
		if isTerminal(rec.Status) {
			continue
		}
		for vertex, sts := range subtasks {
			for _, st := range sts {
				labels := []string{rec.ID, rec.Name, vertex, strconv.Itoa(st.Index)}
				ch <- prometheus.MustNewConstMetric(m.recordsIn, prometheus.CounterValue, float64(st.RecordsIn), labels...)
				ch <- prometheus.MustNewConstMetric(m.recordsOut, prometheus.CounterValue, float64(st.RecordsOut), labels...)
			}
		}
	}
	for _, s := range []string{StatusCreated, StatusRunning, StatusFailing, StatusRestarting, StatusCanceled, StatusFinished, StatusFailed} {
		ch <- prometheus.MustNewConstMetric(m.jobs, prometheus.GaugeValue, float64(byStatus[s]), s)
	}
	for _, w := range m.c.slots.list() {
		ch <- prometheus.MustNewConstMetric(m.slots, prometheus.GaugeValue, float64(w.Slots), w.ID)
		ch <- prometheus.MustNewConstMetric(m.slotsUsed, prometheus.GaugeValue, float64(w.SlotsUsed), w.ID)
	}
}
