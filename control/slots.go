package control

import (
	"time"

	"sort"
	"sync"

	"github.com/weir-streams/weir/internal/api"
)

// workerInfo is a registered worker.
type workerInfo struct {
	id    string
	slots int
	used  int
	w     api.Worker
}

// slotManager tracks workers and their free slots (Flink's ResourceManager and
// SlotManager). With slot sharing a job takes as many slots as its largest
// parallelism, one subtask of each vertex per slot.
type slotManager struct {
	mu      sync.Mutex
	workers map[string]*workerInfo // guarded by mu
}

func newSlotManager() *slotManager { return &slotManager{workers: map[string]*workerInfo{}} }

func (m *slotManager) add(id string, slots int, w api.Worker) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.workers[id] = &workerInfo{id: id, slots: slots, w: w}
}

func (m *slotManager) remove(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.workers, id)
}

// slot is one allocated slot.
type slot struct {
	worker string
	w      api.Worker
}

// allocate takes n slots spread round-robin over the workers with free slots, or
// reports how many are free.
func (m *slotManager) allocate(n int) ([]slot, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	free := 0
	ids := make([]string, 0, len(m.workers))
	for id, w := range m.workers {
		free += w.slots - w.used
		ids = append(ids, id)
	}
	if free < n {
		return nil, free
	}
	sort.Strings(ids)
	out := make([]slot, 0, n)
	for len(out) < n {
		for _, id := range ids {
			w := m.workers[id]
			if w.used < w.slots && len(out) < n {
				w.used++
				out = append(out, slot{worker: id, w: w.w})
			}
		}
	}
	return out, free
}

func (m *slotManager) release(slots []slot) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range slots {
		if w, ok := m.workers[s.worker]; ok && w.used > 0 {
			w.used--
		}
	}
}

// WorkerStatus is a worker as GET /workers shows it.
type WorkerStatus struct {
	ID        string `json:"id"`
	Address   string `json:"address,omitempty"`
	Slots     int    `json:"slots"`
	SlotsUsed int    `json:"slots_used"`
	// Tasks is how many subtasks run on the worker.
	Tasks int `json:"tasks"`
	// MemoryBytes is the worker process's heap in use plus its Wasm instances' memory.
	MemoryBytes uint64 `json:"memory_bytes"`
	// LastHeartbeat is when the control plane last heard from the worker.
	LastHeartbeat time.Time `json:"last_heartbeat"`
}

func (m *slotManager) list() []WorkerStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]WorkerStatus, 0, len(m.workers))
	for _, w := range m.workers {
		out = append(out, WorkerStatus{ID: w.id, Slots: w.slots, SlotsUsed: w.used})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
