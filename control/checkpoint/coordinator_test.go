package checkpoint

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestConfigDefaultsAndValidate(t *testing.T) {
	c := Config{Interval: time.Second}
	c.Defaults()
	require.Equal(t, Config{Interval: time.Second, Timeout: 10 * time.Minute, MaxConcurrent: 1, Retain: 1}, c)
	require.NoError(t, c.Validate())

	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Timeout: time.Second, MaxConcurrent: 1, Retain: 1}, "checkpointing.interval: must be positive, got 0s"},
		{Config{Interval: time.Second, Timeout: -1, MaxConcurrent: 1, Retain: 1}, "checkpointing.timeout: must be positive, got -1ns"},
		{Config{Interval: time.Second, Timeout: time.Second, MinPause: -time.Second, MaxConcurrent: 1, Retain: 1}, "checkpointing.min_pause: must not be negative, got -1s"},
		{Config{Interval: time.Second, Timeout: time.Second, MaxConcurrent: -1, Retain: 1}, "checkpointing.max_concurrent: must be at least 1, got -1"},
		{Config{Interval: time.Second, Timeout: time.Second, MaxConcurrent: 1, TolerableFailures: -2, Retain: 1}, "checkpointing.tolerable_failures: must not be negative, got -2"},
		{Config{Interval: time.Second, Timeout: time.Second, MaxConcurrent: 1, Retain: -1}, "checkpointing.retain: must be at least 1, got -1"},
	} {
		require.EqualError(t, tc.cfg.Validate(), tc.want)
	}
	// Every problem is reported at once.
	err := Config{}.Validate()
	require.ErrorContains(t, err, "checkpointing.interval")
	require.ErrorContains(t, err, "checkpointing.retain")
}

func meta(id uint64, objects ...string) Metadata {
	return Metadata{JobID: "job", ID: id, Tasks: map[string]TaskSnapshot{"src[0]": {Task: "src[0]", Objects: objects}}}
}

func TestNewFromRetained(t *testing.T) {
	// Retained checkpoints from the store, out of order and more than Retain keeps
	// (retain was lowered): ids continue after the latest, and the next commit
	// trims the excess, discarding only what nothing kept shares.
	c := New(Config{Interval: time.Second}, "job", []string{"src[0]"}, []Metadata{meta(7, "b", "c"), meta(5, "a", "b")}, 3)
	require.Equal(t, uint64(8), c.NextID())
	require.Equal(t, uint64(7), c.Latest().ID)

	c.Tick(t0)
	acts := c.Tick(t0.Add(time.Second))
	require.Equal(t, []Action{Trigger{ID: 8, Timestamp: t0.Add(time.Second)}}, acts)
	acts = c.Ack(t0.Add(time.Second), 8, TaskSnapshot{Task: "src[0]", Objects: []string{"c", "d"}})
	require.Len(t, acts, 1)
	acts = c.Committed(t0.Add(time.Second), 8)
	require.Equal(t, []Action{
		Notify{ID: 8},
		Discard{Checkpoint: 5, Objects: []string{"a"}}, // b is still in 7 at this point
		Discard{Checkpoint: 7, Objects: []string{"b"}},
	}, acts)

	require.Equal(t, uint64(1), New(Config{Interval: time.Second}, "job", nil, nil, 0).NextID(), "ids start at 1")
	require.Equal(t, uint64(42), New(Config{Interval: time.Second}, "job", nil, nil, 42).NextID())
}

func TestCoordinatorDoesNotShareCallerMemory(t *testing.T) {
	c := New(Config{Interval: time.Second}, "job", []string{"src[0]"}, nil, 1)
	acts, err := c.TriggerSavepoint(t0, "sp")
	require.NoError(t, err)
	require.Len(t, acts, 1)
	c = New(Config{Interval: time.Second}, "job", []string{"src[0]"}, nil, 1)
	c.Tick(t0)
	c.Tick(t0.Add(time.Second))
	objs := []string{"a"}
	pos := map[string]uint64{"s/0": 1}
	acts = c.Ack(t0, 1, TaskSnapshot{Task: "src[0]", Objects: objs, Positions: pos})
	objs[0], pos["s/0"] = "mutated", 99
	commit := acts[0].(Commit)
	require.Equal(t, []string{"a"}, commit.Meta.Objects())
	commit.Meta.Tasks["src[0]"].Objects[0] = "mutated too"
	c.Committed(t0, 1)
	latest := c.Latest()
	require.Equal(t, []string{"a"}, latest.Objects())
	require.Equal(t, map[string]uint64{"s/0": 1}, latest.Positions())
	latest.Tasks["src[0]"] = TaskSnapshot{}
	require.Equal(t, []string{"a"}, c.Latest().Objects())
}

func TestResumeAfterFailJobAbortsPending(t *testing.T) {
	// A job master that resumes after FailJob without calling Suspend must not
	// leave the old attempt's checkpoints occupying max_concurrent.
	c := New(Config{Interval: time.Second, MaxConcurrent: 2}, "job", []string{"a", "b"}, nil, 1)
	c.Tick(t0)
	c.Tick(t0.Add(time.Second))
	c.Tick(t0.Add(2 * time.Second))
	acts := c.Decline(t0.Add(2*time.Second), 1, "a", "boom")
	require.IsType(t, FailJob{}, acts[len(acts)-1])
	acts = c.Resume(t0.Add(3*time.Second), []string{"a", "b"}, 0)
	require.Equal(t, []Action{Abort{ID: 2, Reason: "suspended: a new attempt started"}}, acts)
	require.Equal(t, []Action{Trigger{ID: 3, Timestamp: t0.Add(4 * time.Second)}}, c.Tick(t0.Add(4*time.Second)))
}

func TestHistoryKeepsTheLast50(t *testing.T) {
	c := New(Config{Interval: time.Second, TolerableFailures: 1000}, "job", []string{"a"}, nil, 1)
	now := t0
	c.Tick(now)
	for range 60 {
		now = now.Add(time.Second)
		acts := c.Tick(now)
		require.Len(t, acts, 1)
		c.Decline(now, acts[0].(Trigger).ID, "a", "no")
	}
	for i := range 55 {
		c.Resume(now, []string{"a"}, uint64(i))
	}
	h := c.History()
	require.Len(t, h.Checkpoints, 50)
	require.Equal(t, uint64(11), h.Checkpoints[0].ID)
	require.Equal(t, uint64(60), h.Checkpoints[49].ID)
	require.Len(t, h.Restores, 50)
	require.Equal(t, Counts{Failed: 60, Restored: 54}, h.Counts, "counts cover everything, restores from nothing are not counted")

	b, err := json.Marshal(h.Checkpoints[0])
	require.NoError(t, err)
	require.Contains(t, string(b), `"status":"FAILED"`)
	require.Contains(t, string(b), `"failure":"declined by a: no"`)
}

func TestMetadataPositionsAndObjects(t *testing.T) {
	m := Metadata{Tasks: map[string]TaskSnapshot{
		"src[0]":  {Objects: []string{"c", "a"}, Positions: map[string]uint64{"s/0": 10, "dup": 7}},
		"src[1]":  {Objects: []string{"b", "a"}, Positions: map[string]uint64{"s/1": 20, "dup": 5}},
		"sink[0]": {Size: 3},
	}}
	require.Equal(t, map[string]uint64{"s/0": 10, "s/1": 20, "dup": 5}, m.Positions(), "a key reported twice keeps the smaller position")
	require.Equal(t, []string{"a", "b", "c"}, m.Objects())
	require.Empty(t, (&Metadata{}).Objects())
}
