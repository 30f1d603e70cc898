package wasmhost

import (
	"time"

	"github.com/tetratelabs/wazero/experimental"
)

// Limits bound one instance.
type Limits struct {
	// Memory caps the instance's linear memory in bytes. Default 64 MiB.
	Memory int64
	// CallTimeout interrupts a guest call that runs longer. Default 1s.
	CallTimeout time.Duration
}

// Default limits, as DESIGN §6 states them.
const (
	DefaultMemory      = 64 << 20
	DefaultCallTimeout = time.Second
)

func (l Limits) withDefaults() Limits {
	if l.Memory <= 0 {
		l.Memory = DefaultMemory
	}
	if l.CallTimeout <= 0 {
		l.CallTimeout = DefaultCallTimeout
	}
	return l
}

// cappedAllocator backs a linear memory with a slice that never grows past limit:
// past it Reallocate returns nil and the guest's memory.grow fails with -1.
type cappedAllocator struct {
	limit uint64
	// hit records that the guest asked for more than limit.
	hit bool
}

func (a *cappedAllocator) Allocate(capacity, maxSize uint64) experimental.LinearMemory {
	return &cappedMemory{alloc: a, buf: make([]byte, 0, min(capacity, a.limit))}
}

type cappedMemory struct {
	alloc *cappedAllocator
	buf   []byte
}

func (m *cappedMemory) Reallocate(size uint64) []byte {
	if size > m.alloc.limit {
		m.alloc.hit = true
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
		return m.buf
	}
	// Grow geometrically so that a guest growing page by page copies O(n) bytes.
	newCap := max(size, min(uint64(cap(m.buf))*2, m.alloc.limit))
	nb := make([]byte, size, newCap)
	copy(nb, m.buf)
	m.buf = nb
	return m.buf
}

func (m *cappedMemory) Free() { m.buf = nil }
