package barrier

// Result is what the task does after an event.
type Result struct {
	// Block holds the channel back until Snapshot is set by a later event.
	Block bool
	// Snapshot, when nonzero, is the checkpoint whose barrier every channel has
	// delivered: snapshot now, forward the barrier, then release every channel.
	Snapshot uint64
	// Abort, when nonzero, is a checkpoint whose alignment was given up because a
	// newer barrier arrived; its blocked channels are released.
	Abort uint64
	// Stale says the barrier was older than one already handled and is ignored.
	Stale bool
}

// Aligner aligns barriers over a fixed number of input channels.
type Aligner struct {
	exactlyOnce bool
	closed      []bool
	delivered   []bool // delivered the barrier being aligned
	current     uint64 // the checkpoint being aligned; 0 = none
	last        uint64 // the newest checkpoint snapshotted or aborted
}

// New returns an aligner of channels inputs; exactlyOnce blocks channels that
// delivered the barrier being aligned.
func New(channels int, exactlyOnce bool) *Aligner {
	return &Aligner{exactlyOnce: exactlyOnce, closed: make([]bool, channels), delivered: make([]bool, channels)}
}

// Aligning returns the checkpoint being aligned, 0 when none.
func (a *Aligner) Aligning() uint64 { return a.current }

// Blocked reports whether channel c is held back.
func (a *Aligner) Blocked(c int) bool {
	return a.exactlyOnce && a.current != 0 && a.delivered[c] && !a.closed[c]
}

// Barrier handles barrier id arriving on channel c.
func (a *Aligner) Barrier(c int, id uint64) Result {
	var r Result
	switch {
	case id <= a.last || a.current != 0 && id < a.current:
		return Result{Stale: true}
	case a.current != 0 && id > a.current:
		r.Abort = a.current
		a.last = a.current
		a.reset()
		fallthrough
	case a.current == 0:
		a.current = id
	}
	a.delivered[c] = true
	if a.complete() {
		r.Snapshot = a.finish()
		return r
	}
	r.Block = a.exactlyOnce
	return r
}

// End handles the end of partition of channel c.
func (a *Aligner) End(c int) Result {
	a.closed[c] = true
	if a.current != 0 && a.complete() {
		return Result{Snapshot: a.finish()}
	}
	return Result{}
}

// Open reports how many channels have not ended.
func (a *Aligner) Open() int {
	n := 0
	for _, closed := range a.closed {
		if !closed {
			n++
		}
	}
	return n
}

func (a *Aligner) complete() bool {
	for c := range a.closed {
		if !a.closed[c] && !a.delivered[c] {
			return false
		}
	}
	return true
}

func (a *Aligner) finish() uint64 {
	id := a.current
	a.last = id
	a.reset()
	return id
}

func (a *Aligner) reset() {
	a.current = 0
	clear(a.delivered)
}
