package join

import (
	"encoding/binary"
	"errors"
	"math"
)

// elem is one buffered element; its payload is data[off:off+n] of its key.
type elem struct {
	ts     int64
	off, n uint32
	side   uint8
	// matched says the element joined at least one of the other side.
	matched bool
	// json says the payload is valid JSON (embedded as is in results).
	json bool
}

// session is a session window [start, end) of a window join.
type session struct{ start, end int64 }

// keyState is one key's state in the write-back cache.
type keyState struct {
	key   []byte
	kg    int
	elems []elem // in arrival order
	data  []byte // payload arena
	// buckets are the times of the interval join's removal timers registered
	// for the key (not stored: the buckets of the elements are exactly them).
	buckets []int64
	// pending is the sliding or tumbling window join's registered firing time
	// (math.MinInt64 when none).
	pending  int64
	sessions []session
	dirty    bool
	// stored says the backend may hold a value for the key.
	stored bool
}

func (ks *keyState) reset() {
	ks.key = ks.key[:0]
	ks.elems = ks.elems[:0]
	ks.data = ks.data[:0]
	ks.buckets = ks.buckets[:0]
	ks.sessions = ks.sessions[:0]
	ks.pending = math.MinInt64
	ks.dirty, ks.stored = false, false
}

func (ks *keyState) empty() bool { return len(ks.elems) == 0 && len(ks.sessions) == 0 }

func (ks *keyState) payload(e *elem) []byte { return ks.data[e.off : e.off+e.n : e.off+e.n] }

func (ks *keyState) add(side uint8, ts int64, payload []byte, isJSON, matched bool) {
	ks.elems = append(ks.elems, elem{ts: ts, off: uint32(len(ks.data)), n: uint32(len(payload)), side: side, json: isJSON, matched: matched})
	ks.data = append(ks.data, payload...)
}

// keep moves element i to position n, packing its payload at the arena's
// offset w; it returns the next offset. Callers walk i upwards with n <= i, so
// payloads only move down and no live payload is overwritten.
func (ks *keyState) keep(i, n int, w uint32) uint32 {
	e := ks.elems[i]
	if e.off != w {
		copy(ks.data[w:], ks.data[e.off:e.off+e.n])
		e.off = w
	}
	ks.elems[n] = e
	return w + e.n
}

// truncate ends a pass of keep: n elements and w bytes of payload remain.
func (ks *keyState) truncate(n int, w uint32) {
	ks.elems = ks.elems[:n]
	ks.data = ks.data[:w]
}

// A key's state as stored (little endian): format byte, pending (i64), u32
// session count, sessions (start, end i64), u32 element count, then per
// element a flags byte (side, matched, json), ts (i64), u32 payload length and
// the payload.
const stateFormat = 1

const (
	flagRight   = 1 << 0
	flagMatched = 1 << 1
	flagJSON    = 1 << 2
)

func (ks *keyState) encode(dst []byte) []byte {
	dst = append(dst, stateFormat)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(ks.pending))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(ks.sessions)))
	for _, s := range ks.sessions {
		dst = binary.LittleEndian.AppendUint64(dst, uint64(s.start))
		dst = binary.LittleEndian.AppendUint64(dst, uint64(s.end))
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(ks.elems)))
	for i := range ks.elems {
		e := &ks.elems[i]
		var f byte
		if e.side == right {
			f |= flagRight
		}
		if e.matched {
			f |= flagMatched
		}
		if e.json {
			f |= flagJSON
		}
		dst = append(dst, f)
		dst = binary.LittleEndian.AppendUint64(dst, uint64(e.ts))
		dst = binary.LittleEndian.AppendUint32(dst, e.n)
		dst = append(dst, ks.payload(e)...)
	}
	return dst
}

var errMalformed = errors.New("join: malformed key state")

// decode fills ks (reset) from b, reusing its memory.
func (ks *keyState) decode(b []byte) error {
	if len(b) < 13 || b[0] != stateFormat {
		return errMalformed
	}
	ks.pending = int64(binary.LittleEndian.Uint64(b[1:]))
	ns := int(binary.LittleEndian.Uint32(b[9:]))
	b = b[13:]
	if ns > len(b)/16 {
		return errMalformed
	}
	for range ns {
		ks.sessions = append(ks.sessions, session{start: int64(binary.LittleEndian.Uint64(b)), end: int64(binary.LittleEndian.Uint64(b[8:]))})
		b = b[16:]
	}
	if len(b) < 4 {
		return errMalformed
	}
	n := int(binary.LittleEndian.Uint32(b))
	b = b[4:]
	if n > len(b)/13 {
		return errMalformed
	}
	for range n {
		if len(b) < 13 {
			return errMalformed
		}
		f := b[0]
		ts := int64(binary.LittleEndian.Uint64(b[1:]))
		l := int(binary.LittleEndian.Uint32(b[9:]))
		b = b[13:]
		if l > len(b) {
			return errMalformed
		}
		side := left
		if f&flagRight != 0 {
			side = right
		}
		ks.add(side, ts, b[:l], f&flagJSON != 0, f&flagMatched != 0)
		b = b[l:]
	}
	if len(b) != 0 {
		return errMalformed
	}
	return nil
}
