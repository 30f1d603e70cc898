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
	if len(b) < 1 {
		return v, 0, fmt.Errorf("%w: truncated record", ErrMalformed)
	}
	v.Flags = b[0]
	if v.Flags&flagsReserved != 0 {
		return v, 0, fmt.Errorf("%w: reserved flag bits 0x%02x set", ErrMalformed, v.Flags&flagsReserved)
	}
	rest := b[1:]
	var err error
	if v.Flags&FlagKey != 0 {
		if v.Key, rest, err = lenPrefixed(rest); err != nil {
			return v, 0, err
		}
	}
	if v.Flags&FlagTimestamp != 0 {
		if len(rest) < 8 {
			return v, 0, fmt.Errorf("%w: truncated timestamp", ErrMalformed)
		}
		v.Timestamp = int64(binary.LittleEndian.Uint64(rest))
		rest = rest[8:]
	}
	if v.Flags&FlagPayload != 0 {
		if v.Payload, rest, err = lenPrefixed(rest); err != nil {
			return v, 0, err
		}
	}
	if v.Flags&FlagHeaders != 0 {
		if len(rest) < 4 {
			return v, 0, fmt.Errorf("%w: truncated header count", ErrMalformed)
		}
		n := binary.LittleEndian.Uint32(rest)
		start := rest[4:]
		cur := start
		for i := uint32(0); i < n; i++ {
			if _, cur, err = lenPrefixed(cur); err != nil {
				return v, 0, err
			}
			if _, cur, err = lenPrefixed(cur); err != nil {
				return v, 0, err
			}
		}
		v.HeaderCount = n
		v.Headers = start[:len(start)-len(cur)]
		rest = cur
	}
	return v, len(b) - len(rest), nil
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

// AppendView appends v to dst in record encoding.
func AppendView(dst []byte, v *View) []byte {
	dst = append(dst, v.Flags)
	if v.Flags&FlagKey != 0 {
		dst = appendLenPrefixed(dst, v.Key)
	}
	if v.Flags&FlagTimestamp != 0 {
		dst = binary.LittleEndian.AppendUint64(dst, uint64(v.Timestamp))
	}
	if v.Flags&FlagPayload != 0 {
		dst = appendLenPrefixed(dst, v.Payload)
	}
	if v.Flags&FlagHeaders != 0 {
		dst = binary.LittleEndian.AppendUint32(dst, v.HeaderCount)
		dst = append(dst, v.Headers...)
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
