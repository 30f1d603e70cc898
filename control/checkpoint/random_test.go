package checkpoint

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestRandomWalk drives coordinators with random inputs, sensible and not, and
// checks the invariants the package doc promises after every step. The scripted
// scenarios say what happens; this says that nothing else does.
func TestRandomWalk(t *testing.T) {
	for seed := range uint64(30) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { randomWalk(t, seed, 3000) })
	}
}

func randomWalk(t *testing.T, seed uint64, steps int) {
	r := rand.New(rand.NewPCG(seed, 1))
	cfg := Config{
		Interval:          time.Duration(1+r.IntN(5)) * time.Second,
		Timeout:           time.Duration(1+r.IntN(20)) * time.Second,
		MinPause:          time.Duration(r.IntN(3)) * time.Second,
		MaxConcurrent:     1 + r.IntN(3),
		TolerableFailures: r.IntN(4),
		Retain:            1 + r.IntN(3),
	}
	tasks := []string{"src[0]", "src[1]", "sink[0]"}
	c := New(cfg, "job", tasks, nil, 1)
	now := t0
	var (
		lastTrigger, lastNotify uint64
		failedJob               bool
		spN                     int
	)
	pick := func(ids []uint64) uint64 {
		if len(ids) == 0 || r.IntN(10) == 0 {
			return uint64(r.IntN(int(c.nextID) + 2)) // unknown or ended, now and then
		}
		return ids[r.IntN(len(ids))]
	}
	objects := func() []string {
		var out []string
		for range r.IntN(4) {
			out = append(out, fmt.Sprintf("o%d", r.IntN(12)))
		}
		return out
	}
	task := func() string {
		if r.IntN(20) == 0 {
			return "stranger[0]"
		}
		return c.tasks[r.IntN(len(c.tasks))]
	}
	for step := range steps {
		pending := slices.Sorted(maps.Keys(c.pending))
		var (
			acts []Action
			op   string
		)
		switch n := r.IntN(100); {
		case n < 30:
			op = "tick"
			now = now.Add(time.Duration(r.IntN(2000)) * time.Millisecond)
			acts = c.Tick(now)
		case n < 60:
			op = "ack"
			id, tk := pick(pending), task()
			// Mostly an ack that counts, so that checkpoints do complete.
			for _, pid := range pending { // in order: the walk must be reproducible
				if p := c.pending[pid]; r.IntN(4) != 0 && !p.committing {
					for _, e := range p.expected {
						if !hasAck(p, e) {
							id, tk = p.id, e
						}
					}
				}
			}
			acts = c.Ack(now, id, TaskSnapshot{Task: tk, Objects: objects(), Size: 1})
		case n < 64:
			op = "decline"
			acts = c.Decline(now, pick(pending), task(), "random")
		case n < 80:
			op = "committed"
			acts = c.Committed(now, pick(pending))
		case n < 83:
			op = "commit failed"
			acts = c.CommitFailed(now, pick(pending), "random")
		case n < 88:
			op = "savepoint"
			spN++
			acts, _ = c.TriggerSavepoint(now, fmt.Sprintf("sp-%d", spN))
		case n < 91:
			op = "suspend"
			acts = c.Suspend(now, "random")
		case n < 96:
			op = "resume"
			acts = c.Resume(now, tasks[:1+r.IntN(len(tasks))], 0)
			failedJob = false
		default:
			op = "drop"
			var ids []uint64
			for _, m := range c.retained {
				ids = append(ids, m.ID)
			}
			acts = c.Drop(pick(ids))
		}
		fail := func(format string, args ...any) {
			t.Fatalf("seed %d step %d (%s): %s\nactions: %+v", seed, step, op, fmt.Sprintf(format, args...), acts)
		}
		used := c.referenced()
		for _, a := range acts {
			switch a := a.(type) {
			case Trigger:
				if a.ID <= lastTrigger {
					fail("trigger %d after %d", a.ID, lastTrigger)
				}
				if failedJob && a.Savepoint == "" {
					fail("trigger %d after FailJob", a.ID)
				}
				lastTrigger = a.ID
			case Commit:
				p := c.pending[a.Meta.ID]
				if p == nil || !p.committing || len(a.Meta.Tasks) != len(p.expected) {
					fail("commit %d without every ack", a.Meta.ID)
				}
			case Notify:
				if a.Savepoint == "" {
					if a.ID <= lastNotify {
						fail("notify %d after %d", a.ID, lastNotify)
					}
					lastNotify = a.ID
				}
			case Discard:
				for _, o := range a.Objects {
					if used[o] {
						fail("discard of %s, still referenced", o)
					}
				}
			case FailJob:
				if failedJob {
					fail("a second FailJob")
				}
				failedJob = true
			}
		}
		if op == "committed" && len(c.retained) > cfg.Retain {
			fail("%d retained, retain is %d", len(c.retained), cfg.Retain)
		}
		if !slices.IsSortedFunc(c.retained, func(a, b Metadata) int { return cmpID(a.ID, b.ID) }) {
			fail("retained out of order")
		}
		if c.counts.InProgress != len(c.pending) {
			fail("in_progress %d, %d pending", c.counts.InProgress, len(c.pending))
		}
		periodic := 0
		for _, p := range c.pending {
			if p.savepoint == "" && !p.committing {
				periodic++
			}
		}
		if c.state != running && periodic > 0 && op == "suspend" {
			fail("suspend left %d checkpoints collecting acks", periodic)
		}
	}
}
