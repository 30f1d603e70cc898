package exchange

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// The wire format of remote channels. Every frame on a data subject starts with a
// 24-byte header, little endian:
//
//	0  version (1)
//	1  kind: 0 data, 1 marker, 2 end of partition, 3 hello
//	2  flags: 0x01 = more fragments of this buffer follow
//	3  reserved, 0
//	4  u32 upstream subtask (the channel)
//	8  u64 sequence number, from 1 per channel (0 for hello)
//	16 u32 backlog: buffers the sender holds behind this frame
//	20 u32 reserved, 0
//
// then the payload: a batch frame (or a fragment of one) for data, the positions as
// JSON for a marker, nothing for end of partition and hello.
//
// A credit grant, on the sender's credit subject, is 16 bytes: u32 receiving
// subtask, u32 flags (0x01 = the sender's hello arrived), u64 the total number of
// frames the receiver has granted the channel so far. Totals make grants
// idempotent: a repeated or reordered grant never adds credit twice.
const (
	frameVersion    = 1
	frameHeaderSize = 24
	kindHello       = Kind(3)
	flagMore        = 0x01
	grantSize       = 16
	grantHelloSeen  = 0x01
)

// MaxFramePayload bounds one frame's payload, so that a granted credit never stands
// for more than this many bytes; larger buffers travel as fragments.
const MaxFramePayload = 2 * BufferSize

type frameHeader struct {
	kind    Kind
	more    bool
	from    int
	seq     uint64
	backlog int
}

func appendFrameHeader(dst []byte, h frameHeader) []byte {
	var b [frameHeaderSize]byte
	b[0] = frameVersion
	b[1] = byte(h.kind)
	if h.more {
		b[2] = flagMore
	}
	binary.LittleEndian.PutUint32(b[4:], uint32(h.from))
	binary.LittleEndian.PutUint64(b[8:], h.seq)
	binary.LittleEndian.PutUint32(b[16:], uint32(h.backlog))
	return append(dst, b[:]...)
}

func parseFrameHeader(b []byte) (frameHeader, []byte, error) {
	if len(b) < frameHeaderSize {
		return frameHeader{}, nil, fmt.Errorf("frame of %d bytes is shorter than its header", len(b))
	}
	if b[0] != frameVersion {
		return frameHeader{}, nil, fmt.Errorf("frame version %d, want %d", b[0], frameVersion)
	}
	h := frameHeader{
		kind:    Kind(b[1]),
		more:    b[2]&flagMore != 0,
		from:    int(binary.LittleEndian.Uint32(b[4:])),
		seq:     binary.LittleEndian.Uint64(b[8:]),
		backlog: int(binary.LittleEndian.Uint32(b[16:])),
	}
	if h.kind > Watermark {
		return frameHeader{}, nil, fmt.Errorf("frame kind %d is unknown", h.kind)
	}
	return h, b[frameHeaderSize:], nil
}

func appendGrant(dst []byte, to int, total uint64, helloSeen bool) []byte {
	var b [grantSize]byte
	binary.LittleEndian.PutUint32(b[0:], uint32(to))
	if helloSeen {
		binary.LittleEndian.PutUint32(b[4:], grantHelloSeen)
	}
	binary.LittleEndian.PutUint64(b[8:], total)
	return append(dst, b[:]...)
}

func parseGrant(b []byte) (to int, total uint64, helloSeen bool, err error) {
	if len(b) != grantSize {
		return 0, 0, false, fmt.Errorf("credit grant of %d bytes, want %d", len(b), grantSize)
	}
	return int(binary.LittleEndian.Uint32(b)), binary.LittleEndian.Uint64(b[8:]), binary.LittleEndian.Uint32(b[4:])&grantHelloSeen != 0, nil
}

// dataSubject is the subject of the frames for one downstream subtask: the
// execution attempt in it keeps a zombie of an earlier attempt from injecting data.
func dataSubject(k Key) string {
	return "weir.x." + k.JobID + "." + strconv.FormatUint(k.Attempt, 10) + "." + strconv.Itoa(k.Edge) + "." + strconv.Itoa(k.Subtask)
}

// creditSubject is where the downstream subtask k.Subtask grants credit to the
// upstream subtask from.
func creditSubject(k Key, from int) string {
	return "weir.c." + k.JobID + "." + strconv.FormatUint(k.Attempt, 10) + "." + strconv.Itoa(k.Edge) + "." + strconv.Itoa(k.Subtask) + "." + strconv.Itoa(from)
}
