package state

import (
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// A stored value is a flags byte, then (when flagWriteTime is set) the write time
// in Unix nanoseconds (u64 BE), then the payload. States with a TTL store the
// write time, so a changed TTL applies to old entries too; others do not pay for
// it. An entry without a write time never expires.
const (
	flagWriteTime = 1 << 0
	valueHeader   = 1
	timeLen       = 8
)

func encodeValue(dst []byte, s State, val []byte, now int64) []byte {
	if s.ttl > 0 {
		dst = append(dst, flagWriteTime)
		dst = binary.BigEndian.AppendUint64(dst, uint64(now))
	} else {
		dst = append(dst, 0)
	}
	return append(dst, val...)
}

// decodeValue returns the payload of a stored value and whether it has expired
// at now under s's TTL (Flink's "never return expired"). ok is false for a
// malformed value.
func decodeValue(s State, v []byte, now int64) (payload []byte, expired, ok bool) {
	if len(v) < valueHeader {
		return nil, false, false
	}
	flags := v[0]
	if flags&^flagWriteTime != 0 {
		return nil, false, false
	}
	if flags&flagWriteTime == 0 {
		return v[valueHeader:], false, true
	}
	if len(v) < valueHeader+timeLen {
		return nil, false, false
	}
	written := int64(binary.BigEndian.Uint64(v[valueHeader:]))
	expired = s.ttl > 0 && now-written >= int64(s.ttl)
	return v[valueHeader+timeLen:], expired, true
}

// CleanupExpired scans at most budget entries, starting where the previous call
// stopped (wrapping around at the end), and deletes those whose TTL has passed.
// Pebble has no compaction filter, so this and the lazy deletion on read are
// what reclaim expired state; the task calls it between record batches. The
// deletions go into the open batch. It returns the number of entries scanned.
func (b *Backend) CleanupExpired(budget int) (scanned int, err error) {
	if b.closed {
		return 0, ErrClosed
	}
	if budget <= 0 {
		return 0, nil
	}
	it, err := b.batch.NewIter(&pebble.IterOptions{LowerBound: b.cleanupCursor})
	if err != nil {
		return 0, fmt.Errorf("scanning for expired state: %w", err)
	}
	now := b.nowNanos()
	valid := it.First()
	for ; valid && scanned < budget; valid = it.Next() {
		scanned++
		k := it.Key()
		d, ok := decodeKey(k)
		if !ok || d.kg == metaKeyGroup {
			continue
		}
		e, ok := b.reg.byHandle[handleKey(d.op, d.st)]
		if !ok || e.TTL == 0 {
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return scanned, fmt.Errorf("scanning for expired state: %w", err)
		}
		if _, expired, good := decodeValue(e.state(), v, now); good && expired {
			if err := b.expire(k); err != nil {
				_ = it.Close()
				return scanned, err
			}
		}
	}
	if valid {
		// Resume at the first key not scanned.
		b.cleanupCursor = append(b.cleanupCursor[:0], it.Key()...)
	} else {
		b.cleanupCursor = nil
	}
	if err := it.Close(); err != nil {
		return scanned, fmt.Errorf("scanning for expired state: %w", err)
	}
	return scanned, nil
}
