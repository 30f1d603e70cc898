//go:build !wasip1

package weir

import (
	"encoding/binary"
	"testing"
)

// testRecord is a record as the tests build and read frames.
type testRecord struct {
	Flags     byte
	Key       string
	Timestamp int64
	Payload   string
	Headers   [][2]string
}

// appendTestRecord encodes r per ABI §5, writing the fields its flags name.
func appendTestRecord(b []byte, r testRecord) []byte {
	b = append(b, r.Flags)
	if r.Flags&flagKey != 0 {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(r.Key)))
		b = append(b, r.Key...)
	}
	if r.Flags&flagTimestamp != 0 {
		b = binary.LittleEndian.AppendUint64(b, uint64(r.Timestamp))
	}
	if r.Flags&flagPayload != 0 {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(r.Payload)))
		b = append(b, r.Payload...)
	}
	if r.Flags&flagHeaders != 0 {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(r.Headers)))
		for _, h := range r.Headers {
			b = binary.LittleEndian.AppendUint32(b, uint32(len(h[0])))
			b = append(b, h[0]...)
			b = binary.LittleEndian.AppendUint32(b, uint32(len(h[1])))
			b = append(b, h[1]...)
		}
	}
	return b
}

func batchFrame(recs ...testRecord) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(recs)))
	for _, r := range recs {
		b = appendTestRecord(b, r)
	}
	return b
}

// payloads makes a batch of records carrying only the given payloads.
func payloads(ps ...string) []byte {
	recs := make([]testRecord, len(ps))
	for i, p := range ps {
		recs[i] = testRecord{Flags: flagPayload, Payload: p}
	}
	return batchFrame(recs...)
}

type testOutput struct {
	Parent, Tag uint32
	testRecord
}

// decodeOutputFrame is an independent reader of output frames, strict about
// lengths, as the host is.
func decodeOutputFrame(t testing.TB, b []byte) []testOutput {
	t.Helper()
	u32 := func() uint32 {
		t.Helper()
		if len(b) < 4 {
			t.Fatalf("output frame truncated")
		}
		v := binary.LittleEndian.Uint32(b)
		b = b[4:]
		return v
	}
	bytes := func() string {
		t.Helper()
		n := u32()
		if uint32(len(b)) < n {
			t.Fatalf("output frame truncated")
		}
		s := string(b[:n])
		b = b[n:]
		return s
	}
	n := u32()
	outs := make([]testOutput, n)
	for i := range outs {
		o := &outs[i]
		o.Parent, o.Tag = u32(), u32()
		if len(b) < 1 {
			t.Fatalf("output frame truncated")
		}
		o.Flags, b = b[0], b[1:]
		if o.Flags&flagKey != 0 {
			o.Key = bytes()
		}
		if o.Flags&flagTimestamp != 0 {
			if len(b) < 8 {
				t.Fatalf("output frame truncated")
			}
			o.Timestamp, b = int64(binary.LittleEndian.Uint64(b)), b[8:]
		}
		if o.Flags&flagPayload != 0 {
			o.Payload = bytes()
		}
		if o.Flags&flagHeaders != 0 {
			for n := u32(); n > 0; n-- {
				o.Headers = append(o.Headers, [2]string{bytes(), bytes()})
			}
		}
	}
	if len(b) != 0 {
		t.Fatalf("%d bytes after the last output", len(b))
	}
	return outs
}

// host captures what the SDK hands the host during one test.
type host struct {
	frames [][]byte
	errors []string
	logs   []string
}

// useTestRegistry gives the test an empty registry and a capturing host, and
// restores the package state afterwards.
func useTestRegistry(t testing.TB) *host {
	h := &host{}
	savedReg, savedDesc, savedSealed := registry, description, sealed
	registry, description, sealed = nil, nil, false
	testEmit = func(f []byte) { h.frames = append(h.frames, append([]byte(nil), f...)) }
	testError = func(msg string) { h.errors = append(h.errors, msg) }
	testLog = func(level int32, msg string) { h.logs = append(h.logs, Level(level).String()+": "+msg) }
	t.Cleanup(func() {
		registry, description, sealed = savedReg, savedDesc, savedSealed
		testEmit, testError, testLog = nil, nil, nil
	})
	return h
}

func (h *host) reset() { h.frames, h.errors, h.logs = nil, nil, nil }

// call runs weir_call the way the host does: through the input buffer.
func call(t testing.TB, kind, fn int32, in []byte) int32 {
	t.Helper()
	if len(in) > len(input) {
		alloc(int32(len(in)))
	}
	n := copy(input, in)
	return dispatch(kind, fn, input[:n])
}
