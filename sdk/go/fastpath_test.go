//go:build !wasip1

package weir

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// The map and filter loops of dispatch.go decode the usual records inline and
// finish the usual outputs inline; processMapFrom and processFilterFrom, which
// they hand anything else to, do everything the general way. These tests run
// both on the same batches, valid or not, and want the same bytes out.

// fastPathFns are the user functions the comparison runs: they take every way
// out of the inline paths (a payload, nothing, other fields, a payload larger
// than the buffer had room for).
func fastPathMap(in *Record, out *Output) error {
	p := in.Payload()
	switch len(p) % 5 {
	case 0:
		out.SetPayload(append(out.Buffer(), p...))
	case 1:
		// Inherit everything.
	case 2:
		out.SetPayload(bytes.Repeat(p, 40))
	case 3:
		out.SetKey(p)
		out.SetPayload(p[:len(p)/2])
	case 4:
		out.SetTimestamp(int64(len(p)))
		out.ClearHeaders()
	}
	if k, ok := in.Key(); ok {
		out.Write(k)
	}
	if ts, ok := in.Timestamp(); ok && ts%3 == 0 {
		out.AddHeader([]byte("ts"), p)
	}
	return nil
}

func fastPathFilter(in *Record) (bool, error) {
	ts, _ := in.Timestamp()
	return (len(in.Payload())+in.NumHeaders()+int(ts))%3 != 0, nil
}

// randomBatch makes a batch frame of mostly well-formed records; broken ones
// come from the callers.
func randomBatch(r *rand.Rand) []byte {
	n := r.IntN(40)
	recs := make([]testRecord, n)
	for i := range recs {
		rec := &recs[i]
		rec.Flags = flagPayload
		switch r.IntN(10) {
		case 0:
			rec.Flags = byte(r.IntN(16)) // any combination
		case 1, 2, 3, 4:
			rec.Flags |= flagTimestamp
		}
		rec.Key = string(make([]byte, r.IntN(6)))
		rec.Timestamp = r.Int64N(1000) - 500
		p := make([]byte, r.IntN(30))
		for j := range p {
			p[j] = byte(r.IntN(256))
		}
		rec.Payload = string(p)
		for range r.IntN(3) {
			rec.Headers = append(rec.Headers, [2]string{"h", string(p[:len(p)/3])})
		}
		if rec.Flags&flagHeaders == 0 {
			rec.Headers = nil
		}
	}
	return batchFrame(recs...)
}

// runBoth runs function fn of the registry on in through process, and through
// the general loop alone, and compares what each returns and emits.
func runBoth(t *testing.T, h *host, fn int32, in []byte) {
	t.Helper()
	h.reset()
	rc := call(t, callProcess, fn, in)
	got := h.frames

	h.reset()
	var want [][]byte
	wantRC := int32(rcMalformedInput)
	if len(in) >= 4 {
		count := int(binary.LittleEndian.Uint32(in))
		if count <= len(in)-4 {
			frame.reset()
			f := registry[fn]
			if f.kind == kindMap {
				wantRC = processMapFrom(f.mapFn, in, count, 0, 4, frame.buf)
			} else {
				wantRC = processFilterFrom(f.filterFn, in, count, 0, 4, frame.buf)
			}
			record = Record{}
			if wantRC == rcOK && frame.count > 0 {
				want = [][]byte{append([]byte(nil), frame.bytes()...)}
			}
		}
	}
	if rc != wantRC || len(got) != len(want) || len(got) == 1 && !bytes.Equal(got[0], want[0]) {
		t.Fatalf("fn %d on %x:\n rc %d, emitted %x\nwant rc %d, emitted %x", fn, in, rc, got, wantRC, want)
	}
}

func TestFastPathsMatchGeneral(t *testing.T) {
	h := useTestRegistry(t)
	Map("m", fastPathMap)
	Filter("f", fastPathFilter)
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		in := randomBatch(r)
		switch r.IntN(6) {
		case 0:
			in = in[:r.IntN(len(in)+1)] // truncated
		case 1:
			in = append(in, byte(r.IntN(256))) // a byte too many
		case 2:
			if len(in) > 4 {
				in[4+r.IntN(len(in)-4)] ^= byte(1 << r.IntN(8)) // a bit flipped
			}
		}
		for fn := range int32(2) {
			runBoth(t, h, fn, in)
		}
	}
}

func FuzzFastPathsMatchGeneral(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		f.Add(randomBatch(r))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		h := useTestRegistry(t)
		Map("m", fastPathMap)
		Filter("f", fastPathFilter)
		for fn := range int32(2) {
			runBoth(t, h, fn, in)
		}
	})
}
