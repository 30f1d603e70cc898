package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Durations travel in JSON as Go duration strings ("10ms"), as the spec writes them,
// rather than encoding/json's integer nanoseconds: the API shows them to people.

// duration is a time.Duration that encodes as a Go duration string.
type duration time.Duration

func (d duration) MarshalText() ([]byte, error) {
	return []byte(time.Duration(d).String()), nil
}

func (d *duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("spec: decoding duration: %w", err)
	}
	*d = duration(v)
	return nil
}

// jobJSON is Job's JSON form, field for field.
type jobJSON struct {
	Name                  string         `json:"name"`
	Parallelism           int            `json:"parallelism"`
	MaxParallelism        int            `json:"max_parallelism"`
	BufferTimeout         duration       `json:"buffer_timeout"`
	Limits                Limits         `json:"limits"`
	Restart               Restart        `json:"restart"`
	Checkpointing         *Checkpointing `json:"checkpointing,omitempty"`
	FromSavepoint         string         `json:"from_savepoint,omitempty"`
	AllowNonRestoredState bool           `json:"allow_non_restored_state,omitempty"`
	Steps                 []Step         `json:"steps"`
}

// MarshalJSON encodes the job with its durations as strings. It leaves <, > and &
// unescaped, so that the encoder that calls it decides (encoding/json's Marshal
// escapes them, an Encoder with SetEscapeHTML(false) does not).
func (j Job) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(jobJSON{
		Name:                  j.Name,
		Parallelism:           j.Parallelism,
		MaxParallelism:        j.MaxParallelism,
		BufferTimeout:         duration(j.BufferTimeout),
		Limits:                j.Limits,
		Restart:               j.Restart,
		Checkpointing:         j.Checkpointing,
		FromSavepoint:         j.FromSavepoint,
		AllowNonRestoredState: j.AllowNonRestoredState,
		Steps:                 j.Steps,
	})
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), err
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (j *Job) UnmarshalJSON(b []byte) error {
	var v jobJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*j = Job{
		Name:                  v.Name,
		Parallelism:           v.Parallelism,
		MaxParallelism:        v.MaxParallelism,
		BufferTimeout:         time.Duration(v.BufferTimeout),
		Limits:                v.Limits,
		Restart:               v.Restart,
		Checkpointing:         v.Checkpointing,
		FromSavepoint:         v.FromSavepoint,
		AllowNonRestoredState: v.AllowNonRestoredState,
		Steps:                 v.Steps,
	}
	return nil
}

type limitsJSON struct {
	Memory      int64    `json:"memory"`
	CallTimeout duration `json:"call_timeout"`
}

// MarshalJSON encodes the limits with the call timeout as a string.
func (l Limits) MarshalJSON() ([]byte, error) {
	return json.Marshal(limitsJSON{Memory: l.Memory, CallTimeout: duration(l.CallTimeout)})
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (l *Limits) UnmarshalJSON(b []byte) error {
	var v limitsJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*l = Limits{Memory: v.Memory, CallTimeout: time.Duration(v.CallTimeout)}
	return nil
}

type restartJSON struct {
	Strategy    RestartStrategy `json:"strategy"`
	Attempts    int             `json:"attempts,omitempty"`
	Delay       duration        `json:"delay,omitempty"`
	Initial     duration        `json:"initial,omitempty"`
	Max         duration        `json:"max,omitempty"`
	Multiplier  float64         `json:"multiplier,omitempty"`
	ResetAfter  duration        `json:"reset_after,omitempty"`
	MaxFailures int             `json:"max_failures,omitempty"`
	Interval    duration        `json:"interval,omitempty"`
}

// MarshalJSON encodes the restart strategy with its durations as strings and
// without the parameters of other strategies.
func (r Restart) MarshalJSON() ([]byte, error) {
	return json.Marshal(restartJSON{
		Strategy: r.Strategy, Attempts: r.Attempts, Delay: duration(r.Delay),
		Initial: duration(r.Initial), Max: duration(r.Max), Multiplier: r.Multiplier,
		ResetAfter: duration(r.ResetAfter), MaxFailures: r.MaxFailures, Interval: duration(r.Interval),
	})
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (r *Restart) UnmarshalJSON(b []byte) error {
	var v restartJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*r = Restart{
		Strategy: v.Strategy, Attempts: v.Attempts, Delay: time.Duration(v.Delay),
		Initial: time.Duration(v.Initial), Max: time.Duration(v.Max), Multiplier: v.Multiplier,
		ResetAfter: time.Duration(v.ResetAfter), MaxFailures: v.MaxFailures, Interval: time.Duration(v.Interval),
	}
	return nil
}

type checkpointingJSON struct {
	Interval          duration       `json:"interval"`
	Mode              CheckpointMode `json:"mode"`
	Timeout           duration       `json:"timeout"`
	MinPause          duration       `json:"min_pause,omitempty"`
	MaxConcurrent     int            `json:"max_concurrent"`
	TolerableFailures int            `json:"tolerable_failures,omitempty"`
	Retain            int            `json:"retain"`
	RetainOnCancel    bool           `json:"retain_on_cancel,omitempty"`
}

// MarshalJSON encodes the checkpointing configuration with durations as strings.
func (c Checkpointing) MarshalJSON() ([]byte, error) {
	return json.Marshal(checkpointingJSON{
		Interval: duration(c.Interval), Mode: c.Mode, Timeout: duration(c.Timeout), MinPause: duration(c.MinPause),
		MaxConcurrent: c.MaxConcurrent, TolerableFailures: c.TolerableFailures, Retain: c.Retain, RetainOnCancel: c.RetainOnCancel,
	})
}

// UnmarshalJSON decodes what MarshalJSON encodes.
func (c *Checkpointing) UnmarshalJSON(b []byte) error {
	var v checkpointingJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*c = Checkpointing{
		Interval: time.Duration(v.Interval), Mode: v.Mode, Timeout: time.Duration(v.Timeout), MinPause: time.Duration(v.MinPause),
		MaxConcurrent: v.MaxConcurrent, TolerableFailures: v.TolerableFailures, Retain: v.Retain, RetainOnCancel: v.RetainOnCancel,
	}
	return nil
}
