package weir

import (
	"encoding/binary"
	"errors"
	"iter"
)

// errMalformed is returned by the frame decoder; the dispatcher turns it into
// return code 4 (malformed input).
var errMalformed = errors.New("weir: malformed frame")

// Record is a read-only view of one record of the current input batch.
//
// Its slices point into the input buffer and are valid only until the user
// function returns; the SDK reuses the Record for the next input.
type Record struct {
	index int
	flags byte
	// The payload is in[pOff:pEnd]. It is kept as offsets into the input batch,
	// set once per batch, because storing a slice for every record would cost a
	// write barrier check each time; in is nil when the record has no payload.
	in         []byte
	pOff, pEnd int
	key        []byte
	timestamp  int64
	headers    []byte // the encoded header entries, after the count
	numHeaders int
}

// Index is the record's position in the current input batch, from 0.
func (r *Record) Index() int { return r.index }

// Payload returns the record's payload (possibly empty, never absent in a batch
// the host sends).
func (r *Record) Payload() []byte { return r.in[r.pOff:r.pEnd:r.pEnd] }

// Key returns the record's key and whether it has one.
func (r *Record) Key() ([]byte, bool) {
	if r.flags&flagKey == 0 {
		return nil, false
	}
	return r.key, true
}

// Timestamp returns the record's event time in milliseconds since the Unix epoch
// and whether it has one.
func (r *Record) Timestamp() (int64, bool) {
	if r.flags&flagTimestamp == 0 {
		return 0, false
	}
	return r.timestamp, true
}

// NumHeaders returns the number of header entries; a name that repeats counts
// once per value.
func (r *Record) NumHeaders() int {
	if r.flags&flagHeaders == 0 {
		return 0
	}
	return r.numHeaders
}

// Header returns the value of the first header entry called name.
func (r *Record) Header(name string) ([]byte, bool) {
	h := r.headers
	for i := r.NumHeaders(); i > 0; i-- {
		var n, v []byte
		n, v, h = nextHeader(h)
		if string(n) == name {
			return v, true
		}
	}
	return nil, false
}

// Headers iterates over the header entries in frame order, yielding name and
// value.
func (r *Record) Headers() iter.Seq2[[]byte, []byte] {
	return func(yield func(name, value []byte) bool) {
		h := r.headers
		for i := r.NumHeaders(); i > 0; i-- {
			var n, v []byte
			n, v, h = nextHeader(h)
			if !yield(n, v) {
				return
			}
		}
	}
}

// nextHeader splits one header entry off h, which the decoder has already
// checked to be well formed.
func nextHeader(h []byte) (name, value, rest []byte) {
	n := binary.LittleEndian.Uint32(h)
	name, h = h[4:4+n], h[4+n:]
	n = binary.LittleEndian.Uint32(h)
	return name, h[4 : 4+n], h[4+n:]
}

// batchReader decodes a batch frame (ABI §5) in place.
type batchReader struct {
	buf   []byte
	off   int
	count int
	next  int // index of the next record to decode
}

// reset starts decoding buf, reading its record count.
func (b *batchReader) reset(buf []byte) error {
	*b = batchReader{buf: buf}
	if len(buf) < 4 {
		return errMalformed
	}
	n := binary.LittleEndian.Uint32(buf)
	// Every record takes at least its flags byte: a larger count cannot be honest.
	if uint64(n) > uint64(len(buf)-4) {
		return errMalformed
	}
	b.count, b.off = int(n), 4
	return nil
}

// read decodes the next record into r. It returns false when the batch is done;
// a malformed record, or bytes left after the last record, are an error.
func (b *batchReader) read(r *Record) (bool, error) {
	if b.next == b.count {
		if b.off != len(b.buf) {
			return false, errMalformed
		}
		return false, nil
	}
	off := decodeNext(b.buf, b.off, r)
	if off < 0 {
		return false, errMalformed
	}
	r.index = b.next
	b.off = off
	b.next++
	return true, nil
}

// decodeNext decodes the record starting at buf[off] into r and returns the
// offset just past it, or -1 if it is malformed. It writes only the fields whose
// flag is set (the accessors look at the flags), and the shapes of nearly every
// record a host sends, a payload with or without a timestamp, take a short path.
// The dispatch loops in dispatch.go repeat this short path inline.
func decodeNext(buf []byte, off int, r *Record) int {
	if uint(off) >= uint(len(buf)) {
		return -1
	}
	flags := buf[off]
	if flags&^flagTimestamp != flagPayload {
		return decodeRecord(buf, off, r)
	}
	p := off + 1
	if flags&flagTimestamp != 0 {
		if len(buf)-p < 8 {
			return -1
		}
		r.timestamp = int64(binary.LittleEndian.Uint64(buf[p:]))
		p += 8
	}
	if len(buf)-p < 4 {
		return -1
	}
	n := int(binary.LittleEndian.Uint32(buf[p:]))
	p += 4
	if n > len(buf)-p {
		return -1
	}
	r.flags = flags
	r.in, r.pOff, r.pEnd = buf, p, p+n
	return p + n
}

// decodeRecord decodes any record starting at buf[off] into r and returns the
// offset just past it, or -1 if it is malformed.
func decodeRecord(buf []byte, off int, r *Record) int {
	if off >= len(buf) {
		return -1
	}
	flags := buf[off]
	off++
	if flags&flagReserved != 0 {
		return -1
	}
	*r = Record{flags: flags}
	var ok bool
	if flags&flagKey != 0 {
		if r.key, off, ok = readBytes(buf, off); !ok {
			return -1
		}
	}
	if flags&flagTimestamp != 0 {
		if len(buf)-off < 8 {
			return -1
		}
		r.timestamp = int64(binary.LittleEndian.Uint64(buf[off:]))
		off += 8
	}
	if flags&flagPayload != 0 {
		if len(buf)-off < 4 {
			return -1
		}
		n := int(binary.LittleEndian.Uint32(buf[off:]))
		off += 4
		if n > len(buf)-off {
			return -1
		}
		r.in, r.pOff, r.pEnd = buf, off, off+n
		off += n
	}
	if flags&flagHeaders != 0 {
		if len(buf)-off < 4 {
			return -1
		}
		n := binary.LittleEndian.Uint32(buf[off:])
		off += 4
		start := off
		// Each entry takes at least its two lengths.
		if uint64(n) > uint64(len(buf)-off)/8 {
			return -1
		}
		for i := uint32(0); i < n; i++ {
			if _, off, ok = readBytes(buf, off); !ok {
				return -1
			}
			if _, off, ok = readBytes(buf, off); !ok {
				return -1
			}
		}
		r.headers, r.numHeaders = buf[start:off], int(n)
	}
	return off
}

// readBytes reads a u32 length and that many bytes at buf[off].
func readBytes(buf []byte, off int) ([]byte, int, bool) {
	if len(buf)-off < 4 {
		return nil, 0, false
	}
	n := binary.LittleEndian.Uint32(buf[off:])
	off += 4
	if uint64(n) > uint64(len(buf)-off) {
		return nil, 0, false
	}
	end := off + int(n)
	return buf[off:end:end], end, true
}
