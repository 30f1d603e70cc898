package watermark

import (
	"math"
	"time"
)

const (
	// Min is the watermark before any.
	Min int64 = math.MinInt64
	// Max ends event time: the end of the input, or a stop with drain.
	Max int64 = math.MaxInt64
)

// Status is a task's or a channel's event-time status.
type Status struct {
	Watermark int64
	// Idle says the input holds nothing back until it sends again.
	Idle bool
}

// Strategy is how a source reader's watermark follows its records.
type Strategy struct {
	// MaxOutOfOrderness bounds how far behind the largest timestamp seen a
	// record may come without being late; 0 for ascending timestamps.
	MaxOutOfOrderness time.Duration
	// IdleTimeout makes a reader idle after that long without records; 0 never.
	IdleTimeout time.Duration
	// Punctuated takes each reader's watermark from the punctuations its
	// records carry (Punctuate) instead of from their timestamps.
	Punctuated bool
}

// Generator is a source task's watermark over its readers.
type Generator struct {
	bound      int64 // ms
	punctuated bool
	idle       time.Duration
	readers    []reader
	out        Status
}

type reader struct {
	maxTS int64 // Min until the first record
	punct int64 // the largest punctuation, Min until the first
	last  time.Time
	idle  bool
}

// NewGenerator returns the generator of a task with the given number of
// readers; a task without any is idle from the start.
func NewGenerator(readers int, s Strategy, now time.Time) *Generator {
	// A negative bound would put a reader's watermark ahead of its records and
	// could overflow near Max; treat it as the monotonous strategy.
	bound := max(s.MaxOutOfOrderness.Milliseconds(), 0)
	g := &Generator{bound: bound, punctuated: s.Punctuated, idle: s.IdleTimeout, readers: make([]reader, readers)}
	for i := range g.readers {
		g.readers[i] = reader{maxTS: Min, punct: Min, last: now}
	}
	g.out = Status{Watermark: Min, Idle: readers == 0}
	return g
}

// Observe records that reader r handed over records whose largest timestamp is
// maxTS; the reader is active again if it was idle.
func (g *Generator) Observe(r int, maxTS int64, now time.Time) {
	rd := &g.readers[r]
	rd.maxTS = max(rd.maxTS, maxTS)
	rd.last = now
	rd.idle = false
}

// Punctuate records a watermark that reader r's records carried (a punctuated
// strategy); Observe still says when it was last active.
func (g *Generator) Punctuate(r int, wm int64) {
	rd := &g.readers[r]
	rd.punct = max(rd.punct, wm)
}

// watermarkOf is a reader's watermark: its largest punctuation, or its largest
// timestamp less the bound and 1 ms, without wrapping below Min.
func (g *Generator) watermarkOf(rd *reader) int64 {
	if g.punctuated {
		return rd.punct
	}
	if rd.maxTS == Min || rd.maxTS < Min+g.bound+1 {
		return Min
	}
	return rd.maxTS - g.bound - 1
}

// Tick looks at the readers at time now and returns the task's status, and
// whether it changed since the last Tick: only then is it sent downstream.
func (g *Generator) Tick(now time.Time) (Status, bool) {
	wm, active := Max, 0
	for i := range g.readers {
		rd := &g.readers[i]
		if g.idle > 0 && !rd.idle && now.Sub(rd.last) >= g.idle {
			rd.idle = true
		}
		if rd.idle {
			continue
		}
		active++
		wm = min(wm, g.watermarkOf(rd))
	}
	next := g.out
	if active == 0 {
		next.Idle = true
	} else {
		next.Idle = false
		next.Watermark = max(g.out.Watermark, wm)
	}
	changed := next != g.out
	g.out = next
	return next, changed
}

// Current is the status the last Tick returned.
func (g *Generator) Current() Status { return g.out }

// Tracker is an input task's event-time clock over its channels.
type Tracker struct {
	chans []channel
	out   Status
}

type channel struct {
	wm      int64
	idle    bool
	aligned bool // takes part in the minimum
	ended   bool
}

// NewTracker returns the clock of a task with the given number of input
// channels, each active at Min.
func NewTracker(channels int) *Tracker {
	t := &Tracker{chans: make([]channel, channels), out: Status{Watermark: Min}}
	for i := range t.chans {
		t.chans[i] = channel{wm: Min, aligned: true}
	}
	return t
}

// Watermark records channel c's watermark wm, which also makes it active. It
// returns the task's status and whether it changed.
func (t *Tracker) Watermark(c int, wm int64) (Status, bool) {
	ch := &t.chans[c]
	if ch.ended {
		return t.out, false
	}
	ch.idle = false
	if wm > ch.wm {
		ch.wm = wm
	}
	if !ch.aligned && ch.wm >= t.out.Watermark {
		ch.aligned = true
	}
	return t.update()
}

// Idle records channel c's idle status.
func (t *Tracker) Idle(c int, idle bool) (Status, bool) {
	ch := &t.chans[c]
	if ch.ended || ch.idle == idle {
		return t.out, false
	}
	ch.idle = idle
	if idle {
		ch.aligned = false
	} else {
		// Back behind the clock, it waits to catch up before it counts.
		ch.aligned = ch.wm >= t.out.Watermark
	}
	return t.update()
}

// End records that channel c ended: it holds nothing back any more.
func (t *Tracker) End(c int) (Status, bool) {
	ch := &t.chans[c]
	if ch.ended {
		return t.out, false
	}
	ch.ended, ch.idle, ch.aligned, ch.wm = true, false, true, Max
	return t.update()
}

// Current is the task's status.
func (t *Tracker) Current() Status { return t.out }

func (t *Tracker) update() (Status, bool) {
	wm, active, aligned := Max, 0, 0
	for i := range t.chans {
		ch := &t.chans[i]
		if ch.idle {
			continue
		}
		active++
		if ch.aligned {
			aligned++
			wm = min(wm, ch.wm)
		}
	}
	next := t.out
	switch {
	case active == 0:
		// The last active channel went idle: as Flink's valve does, the clock
		// moves up to the largest watermark any channel reached, so that what
		// every channel sent before going quiet is not held back forever.
		next.Idle = true
		for i := range t.chans {
			next.Watermark = max(next.Watermark, t.chans[i].wm)
		}
	case aligned == 0:
		// Every active channel is behind the clock: it stays where it is.
		next.Idle = false
	default:
		next.Idle = false
		next.Watermark = max(t.out.Watermark, wm)
	}
	changed := next != t.out
	t.out = next
	return next, changed
}
