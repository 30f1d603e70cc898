package keyby

import (
	"context"
	"sync/atomic"

	"github.com/weir-streams/weir/internal/record"
)

// Stats counts the records an Operator gave the null key because their payload
// had no usable member. Safe to read from any goroutine.
type Stats struct {
	// Missing counts records whose payload is not a JSON object or has no such
	// top-level member.
	Missing atomic.Uint64
	// Invalid counts records whose member is an object, an array, malformed, or
	// a number out of range.
	Invalid atomic.Uint64
}

// Operator keys the records of each batch by a top-level member of their JSON
// payload. It implements the worker's chain operator interface.
type Operator struct {
	path  []string // the member's name, as jsonparser takes it
	out   record.Batch
	key   []byte // the current record's key, reused
	stats Stats
}

// New returns an operator that keys records by the member field.
func New(field string) *Operator {
	return &Operator{path: []string{field}}
}

// Stats returns the operator's counters.
func (o *Operator) Stats() *Stats { return &o.stats }

// Process returns b's records, in order, each with its key set (replacing any key
// it had). The result is valid until the next call.
func (o *Operator) Process(_ context.Context, b *record.Batch) (*record.Batch, error) {
	o.out.Reset()
	var (
		v                  record.View
		nMissing, nInvalid uint64
	)
	r := b.Reader()
	for r.Next(&v) {
		var res result
		o.key, res = appendKey(o.key[:0], v.Payload, o.path)
		switch res {
		case missing:
			nMissing++
		case invalid:
			nInvalid++
		}
		v.Flags |= record.FlagKey
		v.Key = o.key
		o.out.Append(&v)
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	if nMissing > 0 {
		o.stats.Missing.Add(nMissing)
	}
	if nInvalid > 0 {
		o.stats.Invalid.Add(nInvalid)
	}
	return &o.out, nil
}

// Close releases nothing: the operator holds no resources beyond memory.
func (o *Operator) Close(context.Context, bool) error { return nil }
