package record

import (
	"encoding/binary"
	"fmt"
)

// HeaderSize is the size of a batch frame's header (the u32 record count).
const HeaderSize = 4

// Batch is a batch frame under construction or being read: a u32 record count
// followed by the records. The zero value is an empty batch ready for appends.
type Batch struct {
	buf   []byte
	count int
}

// Reset empties b, keeping its memory.
func (b *Batch) Reset() {
	if cap(b.buf) < HeaderSize {
		b.buf = make([]byte, HeaderSize, 32<<10)
	}
	b.buf = b.buf[:HeaderSize]
	b.count = 0
}

func (b *Batch) ensure() {
	if len(b.buf) < HeaderSize {
		b.Reset()
	}
}

// Len is the number of records in b.
func (b *Batch) Len() int { return b.count }

// Size is the encoded size of b in bytes, header included.
func (b *Batch) Size() int {
	if len(b.buf) < HeaderSize {
		return HeaderSize
	}
	return len(b.buf)
}

// Bytes returns the batch frame with its count filled in. The slice aliases b.
func (b *Batch) Bytes() []byte {
	b.ensure()
	binary.LittleEndian.PutUint32(b.buf, uint32(b.count))
	return b.buf
}

// Records returns the encoded records without the count header.
func (b *Batch) Records() []byte {
	b.ensure()
	return b.buf[HeaderSize:]
}

// Append appends one record.
func (b *Batch) Append(v *View) {
	b.ensure()
	b.buf = AppendView(b.buf, v)
	b.count++
}

// AppendEncoded appends n records already in record encoding.
func (b *Batch) AppendEncoded(records []byte, n int) {
	b.ensure()
	b.buf = append(b.buf, records...)
	b.count += n
}

// SetFrame makes b a copy of the batch frame f after checking its header. The
// records themselves are checked as they are read.
func (b *Batch) SetFrame(f []byte) error {
	if len(f) < HeaderSize {
		return fmt.Errorf("%w: batch shorter than its header", ErrMalformed)
	}
	b.buf = append(b.buf[:0], f...)
	b.count = int(binary.LittleEndian.Uint32(f))
	return nil
}

// Adopt makes b the batch frame f without copying it: b owns f from now on (and
// may append to it), so the caller must not use f afterwards.
func (b *Batch) Adopt(f []byte) error {
	if len(f) < HeaderSize {
		return fmt.Errorf("%w: batch shorter than its header", ErrMalformed)
	}
	b.buf = f
	b.count = int(binary.LittleEndian.Uint32(f))
	return nil
}

// Reader iterates over the records of a batch frame.
type Reader struct {
	rest      []byte
	last      []byte
	remaining int
	err       error
}

// NewReader returns a reader over the batch frame f.
func NewReader(f []byte) Reader {
	if len(f) < HeaderSize {
		return Reader{err: fmt.Errorf("%w: batch shorter than its header", ErrMalformed)}
	}
	return Reader{rest: f[HeaderSize:], remaining: int(binary.LittleEndian.Uint32(f))}
}

// Reader returns a reader over b's records.
func (b *Batch) Reader() Reader { return NewReader(b.Bytes()) }

// Next decodes the next record into v; it returns false at the end or on error.
func (r *Reader) Next(v *View) bool {
	if r.err != nil || r.remaining == 0 {
		return false
	}
	n, err := DecodeInto(r.rest, v)
	if err != nil {
		r.err = err
		return false
	}
	r.last = r.rest[:n]
	r.rest = r.rest[n:]
	r.remaining--
	return true
}

// Raw returns the encoded bytes of the record Next decoded last, so that a record
// can be copied into another batch without encoding it again. They alias the batch.
func (r *Reader) Raw() []byte { return r.last }

// Err returns the decoding error that stopped Next, if any, including trailing bytes
// after the announced count.
func (r *Reader) Err() error {
	if r.err == nil && r.remaining == 0 && len(r.rest) != 0 {
		return fmt.Errorf("%w: %d bytes after the last record", ErrMalformed, len(r.rest))
	}
	return r.err
}
