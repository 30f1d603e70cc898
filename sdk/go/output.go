package weir

import (
	"encoding/binary"
	"errors"
	"strconv"
)

// Output is one output record under construction.
//
// Every field left unset is inherited from the input record the output derives
// from: an untouched Output is the input record itself. Setting the headers
// replaces all inherited headers. The SDK reuses an Output, and its buffers, for
// the next record: do not keep it, or slices of it, past the call that received it.
type Output struct {
	flags      byte
	tag        uint32
	key        []byte
	timestamp  int64
	payload    []byte
	headers    []byte // encoded entries, without the count
	numHeaders uint32
}

func (o *Output) reset(tag uint32) {
	o.flags, o.tag = 0, tag
	o.key = o.key[:0]
	o.payload = o.payload[:0]
	o.headers = o.headers[:0]
	o.numHeaders = 0
}

// SetPayload sets the output's payload to a copy of p. p may be the slice
// [Output.Buffer] returned, extended by appends: the usual allocation-free way to
// build a new payload is
//
//	out.SetPayload(strconv.AppendInt(out.Buffer(), n, 10))
func (o *Output) SetPayload(p []byte) {
	o.flags |= flagPayload
	if len(p) <= cap(o.payload) {
		// Only the length changes: storing the whole slice would cost a write
		// barrier check. copy does nothing if p was built in place, in Buffer.
		o.payload = o.payload[:len(p)]
		copy(o.payload, p)
		return
	}
	o.payload = append(o.payload[:0], p...)
}

// Buffer returns the output's reusable payload buffer, emptied, to append a new
// payload to before handing it to SetPayload. Its capacity grows to the largest
// payload written, so steady-state use does not allocate.
func (o *Output) Buffer() []byte { return o.payload[:0] }

// Write appends p to the output's payload; the first Write after the output is
// handed out replaces the inherited payload. It implements io.Writer and never
// fails.
func (o *Output) Write(p []byte) (int, error) {
	if o.flags&flagPayload == 0 {
		o.flags |= flagPayload
		o.payload = o.payload[:0]
	}
	o.payload = append(o.payload, p...)
	return len(p), nil
}

// Payload returns the payload set so far and whether one was set (if not, the
// output inherits its input's payload).
func (o *Output) Payload() ([]byte, bool) {
	if o.flags&flagPayload == 0 {
		return o.payload[:0], false // the buffer holds an earlier output's payload
	}
	return o.payload, true
}

// SetKey sets the output's key to a copy of k.
func (o *Output) SetKey(k []byte) {
	o.flags |= flagKey
	o.key = append(o.key[:0], k...)
}

// SetTimestamp sets the output's event time, in milliseconds since the Unix epoch.
func (o *Output) SetTimestamp(ms int64) {
	o.flags |= flagTimestamp
	o.timestamp = ms
}

// ClearHeaders gives the output no headers at all, instead of its input's.
func (o *Output) ClearHeaders() {
	o.flags |= flagHeaders
	o.headers = o.headers[:0]
	o.numHeaders = 0
}

// AddHeader adds a header entry. The first call replaces the inherited headers;
// to keep some of them, copy them with AddHeader from [Record.Headers].
func (o *Output) AddHeader(name, value []byte) {
	if o.flags&flagHeaders == 0 {
		o.ClearHeaders()
	}
	o.headers = binary.LittleEndian.AppendUint32(o.headers, uint32(len(name)))
	o.headers = append(o.headers, name...)
	o.headers = binary.LittleEndian.AppendUint32(o.headers, uint32(len(value)))
	o.headers = append(o.headers, value...)
	o.numHeaders++
}

// Collector receives the outputs of one input record of a [FlatMap] function, or
// of one window of a [WindowProcess] function.
type Collector struct {
	w       *frameWriter
	parent  uint32
	out     Output
	pending bool
	// needPayload is set for a window_process function's outputs, which must
	// set a payload (ABI §4.6); noPayload records that one did not.
	needPayload, noPayload bool
	// sides are the function's declared side outputs, for EmitToSide.
	sides []string
}

// Emit starts a new output on the main output and returns it for the caller to
// fill in. It finishes the output the previous Emit returned, which must not be
// used any more.
func (c *Collector) Emit() *Output { return c.EmitTo(0) }

// EmitTo is Emit for side output tag: tag i+1 is the function's i-th declared
// side output (see [SideOutputs]); tag 0 is the main output.
func (c *Collector) EmitTo(tag uint32) *Output {
	c.flush()
	c.out.reset(tag)
	c.pending = true
	return &c.out
}

// EmitToSide is EmitTo for the declared side output called name (see
// [SideOutputs]). A name the function did not declare returns nil and an error
// wrapping [ErrNoSideOutput], and starts no output. The lookup compares the
// name with each declared one and allocates nothing.
func (c *Collector) EmitToSide(name string) (*Output, error) {
	for i, s := range c.sides {
		if s == name {
			return c.EmitTo(uint32(i + 1)), nil
		}
	}
	return nil, &sideOutputError{name: name}
}

// ErrNoSideOutput is wrapped by the error of [Collector.EmitToSide] for a side
// output the function does not declare.
var ErrNoSideOutput = errors.New("weir: no such side output")

type sideOutputError struct{ name string }

func (e *sideOutputError) Error() string {
	return "weir: the function declares no side output " + strconv.Quote(e.name) + " (declare it with weir.SideOutputs)"
}

func (e *sideOutputError) Unwrap() error { return ErrNoSideOutput }

// EmitPayload emits, on the main output, a record with a copy of payload p and
// everything else inherited from the input record.
func (c *Collector) EmitPayload(p []byte) {
	c.flush()
	c.w.appendRecord(c.parent, 0, flagPayload, nil, 0, p, nil, 0)
}

// flush writes the pending output, if any, into the frame.
func (c *Collector) flush() {
	if c.pending {
		if c.needPayload && c.out.flags&flagPayload == 0 {
			c.noPayload = true
		}
		c.w.appendOutput(c.parent, &c.out)
		c.pending = false
	}
}

// frameWriter builds an output frame (ABI §5). Its buffer is reused from batch to
// batch.
type frameWriter struct {
	buf   []byte
	count uint32
}

func (w *frameWriter) reset() {
	w.buf = append(w.buf[:0], 0, 0, 0, 0)
	w.count = 0
}

// bytes returns the finished frame, valid until the next reset.
func (w *frameWriter) bytes() []byte {
	binary.LittleEndian.PutUint32(w.buf, w.count)
	return w.buf
}

func (w *frameWriter) appendOutput(parent uint32, o *Output) {
	w.appendRecord(parent, o.tag, o.flags, o.key, o.timestamp, o.payload, o.headers, o.numHeaders)
}

// appendRecord appends one output; only the fields whose flag is set are written.
func (w *frameWriter) appendRecord(parent, tag uint32, flags byte, key []byte, ts int64, payload, headers []byte, numHeaders uint32) {
	b := binary.LittleEndian.AppendUint32(w.buf, parent)
	b = binary.LittleEndian.AppendUint32(b, tag)
	b = append(b, flags)
	if flags&flagKey != 0 {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(key)))
		b = append(b, key...)
	}
	if flags&flagTimestamp != 0 {
		b = binary.LittleEndian.AppendUint64(b, uint64(ts))
	}
	if flags&flagPayload != 0 {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(payload)))
		b = append(b, payload...)
	}
	if flags&flagHeaders != 0 {
		b = binary.LittleEndian.AppendUint32(b, numHeaders)
		b = append(b, headers...)
	}
	w.buf = b
	w.count++
}
