package timestamp

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"sync/atomic"
	"time"
	"unsafe"

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
			ts, ok = jsonTimestamp(v.Payload, o.path)
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

// jsonTimestamp reads member path of a JSON object as a timestamp.
func jsonTimestamp(payload []byte, path []string) (int64, bool) {
	// jsonparser is lenient with malformed documents: check first, as key_by
	// does. json.Valid neither allocates nor recurses.
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

// parseMillis reads a JSON number of milliseconds: an integer, or a number with
// a fraction or exponent whose value is integral.
func parseMillis(v []byte) (int64, bool) {
	neg := v[0] == '-'
	digits := v
	if neg {
		digits = v[1:]
	}
	plain := len(digits) > 0 && len(digits) <= 19
	var n uint64
	for _, c := range digits {
		if c < '0' || c > '9' {
			plain = false
			break
		}
		n = n*10 + uint64(c-'0')
	}
	if plain {
		switch {
		case !neg && n <= math.MaxInt64:
			return int64(n), true
		case neg && n <= 1<<63:
			return -int64(n), true
		}
		return 0, false
	}
	f, err := strconvParseFloat(v)
	if err != nil || f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
		return 0, false
	}
	return int64(f), true
}

// parseRFC3339 reads an RFC 3339 time (fractional seconds allowed) as ms.
func parseRFC3339(v []byte) (int64, bool) {
	t, err := time.Parse(time.RFC3339Nano, unsafe.String(&v[0], len(v)))
	if err != nil {
		return 0, false
	}
	return t.UnixMilli(), true
}

// strconvParseFloat parses v without copying it into a string.
func strconvParseFloat(v []byte) (float64, error) {
	return strconv.ParseFloat(unsafe.String(&v[0], len(v)), 64)
}
