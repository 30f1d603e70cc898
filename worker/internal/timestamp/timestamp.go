package timestamp

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"sync/atomic"
	"time"

	"github.com/buger/jsonparser"
	"github.com/weir-streams/weir/internal/record"
)

// Stats are the operator's counters.
type Stats struct {
	// Invalid counts records dropped for want of a usable timestamp.
	Invalid atomic.Uint64
}

// Operator assigns timestamps to the records of each batch. It implements the
// worker's chain operator interface.
type Operator struct {
	path  []string // the member's name; nil for ingestion time
	now   func() time.Time
	out   record.Batch
	maxTS int64
	stats Stats
	// scratch receives a timestamp string that has escapes, unescaped.
	scratch [maxTimeLen]byte
}

// NewJSONField assigns each record the timestamp in its payload's top-level
// member field.
func NewJSONField(field string) *Operator { return &Operator{path: []string{field}} }

// NewIngestion assigns each record the time now returns when its batch is
// processed.
func NewIngestion(now func() time.Time) *Operator { return &Operator{now: now} }

// Stats returns the operator's counters.
func (o *Operator) Stats() *Stats { return &o.stats }

// MaxTimestamp is the largest timestamp of the last Process call's output,
// math.MinInt64 when it was empty.
func (o *Operator) MaxTimestamp() int64 { return o.maxTS }

// Process returns b's records, in order, with their timestamps set, less those
// without a usable one. The result is valid until the next call.
func (o *Operator) Process(_ context.Context, b *record.Batch) (*record.Batch, error) {
	o.out.Reset()
	o.maxTS = math.MinInt64
	var ingest int64
	if o.path == nil {
		ingest = o.now().UnixMilli()
	}
	var (
		v       record.View
		invalid uint64
	)
	r := b.Reader()
	for r.Next(&v) {
		ts, ok := ingest, true
		if o.path != nil {
			ts, ok = jsonTimestamp(v.Payload, o.path, o.scratch[:])
		}
		if !ok {
			invalid++
			continue
		}
		v.Flags |= record.FlagTimestamp
		v.Timestamp = ts
		o.maxTS = max(o.maxTS, ts)
		o.out.Append(&v)
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	if invalid > 0 {
		o.stats.Invalid.Add(invalid)
	}
	return &o.out, nil
}

// Close releases nothing.
func (o *Operator) Close(context.Context, bool) error { return nil }

// maxTimeLen bounds an RFC 3339 string: a date-time with nanoseconds and an
// offset takes 35 bytes; longer fractions are allowed up to this.
const maxTimeLen = 64

// jsonTimestamp reads member path of a JSON object as a timestamp. scratch
// holds the string unescaped when it has escapes.
func jsonTimestamp(payload []byte, path []string, scratch []byte) (int64, bool) {
	// jsonparser is lenient with malformed documents: check first, as key_by
	// does. json.Valid does not recurse, and allocates only for a payload that
	// is not JSON (its SyntaxError), which costs a record nothing else.
	if !json.Valid(payload) || !isObject(payload) {
		return 0, false
	}
	v, typ, _, err := jsonparser.Get(payload, path...)
	if err != nil || len(v) == 0 {
		return 0, false
	}
	switch typ {
	case jsonparser.Number:
		return parseMillis(v)
	case jsonparser.String:
		if len(v) > maxTimeLen {
			return 0, false
		}
		if bytes.IndexByte(v, '\\') >= 0 {
			// Unescape writes into scratch, which is large enough for any
			// string this short, so it does not allocate.
			if v, err = jsonparser.Unescape(v, scratch[:maxTimeLen]); err != nil {
				return 0, false
			}
		}
		return parseRFC3339(v)
	}
	return 0, false
}

func isObject(doc []byte) bool {
	for _, c := range doc {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c == '{'
	}
	return false
}
