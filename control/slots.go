package control

import (
	"time"

	"sort"
	"sync"

	"github.com/weir-streams/weir/internal/api"
)

// workerInfo is a registered worker.
type workerInfo struct {
	id       string
	address  string
	slots    int
	used     int
	w        api.Worker
	tasks    int
	memory   uint64
	lastBeat time.Time
}

// slotManager tracks workers and their free slots (Flink's ResourceManager and
// SlotManager). With slot sharing a job takes as many slots as its largest
// parallelism, one subtask of each vertex per slot.
type slotManager struct {
	mu      sync.Mutex
	workers map[string]*workerInfo // guarded by mu
}

func newSlotManager() *slotManager { return &slotManager{workers: map[string]*workerInfo{}} }

func (m *slotManager) add(reg api.RegisterWorker, w api.Worker) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.workers[reg.WorkerID] = &workerInfo{id: reg.WorkerID, address: reg.Address, slots: reg.Slots, w: w, lastBeat: time.Now()}
}

// remove forgets the worker id if it is still the registration whose handle is w
// (nil: whatever it is), and reports whether it did; a worker that registered again
// under the same id meanwhile stays.
func (m *slotManager) remove(id string, w api.Worker) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.workers[id]
	if !ok || (w != nil && cur.w != w) {
		return false
	}
	delete(m.workers, id)
	return true
}

func (m *slotManager) has(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.workers[id]
	return ok
}

// heartbeat records that a worker is alive, with its memory and task count.
func (m *slotManager) heartbeat(id string, memory uint64, tasks int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if w, ok := m.workers[id]; ok {
		w.lastBeat, w.memory, w.tasks = time.Now(), memory, tasks
	}
}

// lastHeartbeat is when the worker id was last heard of (zero if unknown).
func (m *slotManager) lastHeartbeat(id string) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	if w, ok := m.workers[id]; ok {
		return w.lastBeat
	}
	return time.Time{}
}

// handle returns the worker's handle, or nil.
func (m *slotManager) handle(id string) api.Worker {
	m.mu.Lock()
	defer m.mu.Unlock()
	if w, ok := m.workers[id]; ok {
		return w.w
	}
	return nil
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
		out = append(out, WorkerStatus{ID: w.id, Address: w.address, Slots: w.slots, SlotsUsed: w.used,
			Tasks: w.tasks, MemoryBytes: w.memory, LastHeartbeat: w.lastBeat.UTC()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
