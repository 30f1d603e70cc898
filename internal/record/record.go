package record

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Flags announce which fields follow a record's flags byte.
const (
	FlagKey       byte = 0x01
	FlagTimestamp byte = 0x02
	FlagPayload   byte = 0x04
	FlagHeaders   byte = 0x08
	// flagsReserved must be zero in every record of ABI v1.
	flagsReserved byte = 0xF0
)

// NoParent is the input index of an output record that derives from no input record.
const NoParent = 0xFFFFFFFF

// ErrMalformed is wrapped by every decoding error of this package.
var ErrMalformed = errors.New("record: malformed frame")

// View is a decoded record aliasing the bytes it was read from.
type View struct {
	Flags     byte
	Key       []byte
	Timestamp int64
	Payload   []byte
	// Headers is the encoded header section after its count: HeaderCount pairs of
	// length-prefixed name and value. Use Headers iteration helpers to read it.
	Headers     []byte
	HeaderCount uint32
}

// HasKey reports whether the record carries a key.
func (v *View) HasKey() bool { return v.Flags&FlagKey != 0 }

// HasTimestamp reports whether the record carries a timestamp.
func (v *View) HasTimestamp() bool { return v.Flags&FlagTimestamp != 0 }

// HasHeaders reports whether the record carries headers.
func (v *View) HasHeaders() bool { return v.Flags&FlagHeaders != 0 }

// ForEachHeader calls fn for every header of v in order; it stops at the first error.
func (v *View) ForEachHeader(fn func(name, value []byte) error) error {
	b := v.Headers
	for i := uint32(0); i < v.HeaderCount; i++ {
		name, rest, err := lenPrefixed(b)
		if err != nil {
			return err
		}
		value, rest, err := lenPrefixed(rest)
		if err != nil {
			return err
		}
		b = rest
		if err := fn(name, value); err != nil {
			return err
		}
	}
	return nil
}

// Decode reads one record from the front of b and returns it with the number of
// bytes it took.
func Decode(b []byte) (View, int, error) {
	var v View
	n, err := DecodeInto(b, &v)
	return v, n, err
}

// Preallocated decoding errors keep the hot path free of fmt.
var (
	errTruncated = fmt.Errorf("%w: truncated record", ErrMalformed)
	errReserved  = fmt.Errorf("%w: reserved flag bits set", ErrMalformed)
	errOverrun   = fmt.Errorf("%w: a field runs past the end of the frame", ErrMalformed)
)

// DecodeInto reads one record from the front of b into v and returns the number of
// bytes it took. It is the per-record decoder of every hot path: no allocation.
func DecodeInto(b []byte, v *View) (int, error) {
	if len(b) < 1 {
		return 0, errTruncated
	}
	flags := b[0]
	if flags&flagsReserved != 0 {
		return 0, errReserved
	}
	v.Flags = flags
	p := 1
	if flags&FlagKey != 0 {
		if len(b)-p < 4 {
			return 0, errTruncated
		}
		n := int(binary.LittleEndian.Uint32(b[p:]))
		p += 4
		if n > len(b)-p {
			return 0, errOverrun
		}
		v.Key = b[p : p+n : p+n]
		p += n
	} else {
		v.Key = nil
	}
	if flags&FlagTimestamp != 0 {
		if len(b)-p < 8 {
			return 0, errTruncated
		}
		v.Timestamp = int64(binary.LittleEndian.Uint64(b[p:]))
		p += 8
	} else {
		v.Timestamp = 0
	}
	if flags&FlagPayload != 0 {
		if len(b)-p < 4 {
			return 0, errTruncated
		}
		n := int(binary.LittleEndian.Uint32(b[p:]))
		p += 4
		if n > len(b)-p {
			return 0, errOverrun
		}
		v.Payload = b[p : p+n : p+n]
		p += n
	} else {
		v.Payload = nil
	}
	v.Headers, v.HeaderCount = nil, 0
	if flags&FlagHeaders != 0 {
		if len(b)-p < 4 {
			return 0, errTruncated
		}
		count := binary.LittleEndian.Uint32(b[p:])
		p += 4
		start := p
		for i := uint32(0); i < 2*count; i++ {
			if len(b)-p < 4 {
				return 0, errTruncated
			}
			n := int(binary.LittleEndian.Uint32(b[p:]))
			p += 4
			if n > len(b)-p {
				return 0, errOverrun
			}
			p += n
		}
		v.Headers, v.HeaderCount = b[start:p:p], count
	}
	return p, nil
}

func lenPrefixed(b []byte) (field, rest []byte, err error) {
	if len(b) < 4 {
		return nil, nil, fmt.Errorf("%w: truncated length", ErrMalformed)
	}
	n := binary.LittleEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, fmt.Errorf("%w: field of %d bytes runs past the end of the frame", ErrMalformed, n)
	}
	return b[4 : 4+n], b[4+n:], nil
}

// AppendView appends v to dst in record encoding. It grows dst at most once.
func AppendView(dst []byte, v *View) []byte {
	n := EncodedLen(v)
	p := len(dst)
	if cap(dst)-p < n {
		grown := make([]byte, p, max(2*cap(dst), p+n))
		copy(grown, dst)
		dst = grown
	}
	dst = dst[:p+n]
	b := dst[p:]
	b[0] = v.Flags
	i := 1
	if v.Flags&FlagKey != 0 {
		binary.LittleEndian.PutUint32(b[i:], uint32(len(v.Key)))
		i += 4 + copy(b[i+4:], v.Key)
	}
	if v.Flags&FlagTimestamp != 0 {
		binary.LittleEndian.PutUint64(b[i:], uint64(v.Timestamp))
		i += 8
	}
	if v.Flags&FlagPayload != 0 {
		binary.LittleEndian.PutUint32(b[i:], uint32(len(v.Payload)))
		i += 4 + copy(b[i+4:], v.Payload)
	}
	if v.Flags&FlagHeaders != 0 {
		binary.LittleEndian.PutUint32(b[i:], v.HeaderCount)
		copy(b[i+4:], v.Headers)
	}
	return dst
}

// EncodedLen is the number of bytes AppendView writes for v.
func EncodedLen(v *View) int {
	n := 1
	if v.Flags&FlagKey != 0 {
		n += 4 + len(v.Key)
	}
	if v.Flags&FlagTimestamp != 0 {
		n += 8
	}
	if v.Flags&FlagPayload != 0 {
		n += 4 + len(v.Payload)
	}
	if v.Flags&FlagHeaders != 0 {
		n += 4 + len(v.Headers)
	}
	return n
}

func appendLenPrefixed(dst, b []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(b)))
	return append(dst, b...)
}

// AppendHeader appends one encoded header pair to an encoded header section.
func AppendHeader(dst []byte, name, value string) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(name)))
	dst = append(dst, name...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(value)))
	return append(dst, value...)
}
