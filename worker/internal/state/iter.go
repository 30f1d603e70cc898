package state

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Iter iterates the entries of one map or list (or the single entry of a value
// state) in sub-key order: map entries by key bytes, list elements in insertion
// order. It sees the open batch as it was when the Iter was created, skips
// expired entries (deleting them) and allocates nothing per entry. Close it
// before the next Commit.
type Iter struct {
	b       *Backend
	it      *pebble.Iterator
	s       State
	bounds  []byte // lower bound, then upper bound
	prefix  int
	now     int64
	started bool
	err     error
}

// Iterator returns an iterator over the entries at (key, ns) of state s.
func (b *Backend) Iterator(s State, kg int, key, ns []byte) *Iter {
	it := &Iter{b: b, s: s}
	if err := b.check(s, kg, key, ns); err != nil {
		it.err = err
		return it
	}
	it.bounds = appendKey(make([]byte, 0, 2*(headerLen+8+len(key)+len(ns))), kg, s.op, s.st, key, ns, nil)
	it.prefix = len(it.bounds)
	lower := it.bounds[:it.prefix:it.prefix]
	var upper []byte
	if end, ok := prefixEnd(it.bounds, lower); ok {
		it.bounds = end
		upper = end[it.prefix:]
	}
	pit, err := b.batch.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		it.err = fmt.Errorf("iterating state: %w", err)
		return it
	}
	it.it = pit
	it.now = b.nowNanos()
	b.openIters++
	return it
}

// Next returns the next entry: its sub-key (the map key, or the list element's
// id, which Put and Delete accept) and value. The slices are valid until the
// next call. ok is false at the end or on error (see Close).
func (it *Iter) Next() (sub, val []byte, ok bool) {
	if it.it == nil || it.err != nil {
		return nil, nil, false
	}
	for {
		var valid bool
		if it.started {
			valid = it.it.Next()
		} else {
			valid = it.it.First()
			it.started = true
		}
		if !valid {
			return nil, nil, false
		}
		v, err := it.it.ValueAndErr()
		if err != nil {
			it.err = fmt.Errorf("iterating state: %w", err)
			return nil, nil, false
		}
		payload, expired, good := decodeValue(it.s, v, it.now)
		if !good {
			it.err = errCorruptValue
			return nil, nil, false
		}
		k := it.it.Key()
		if expired {
			// The batch copies the key; the iterator does not see the deletion.
			if err := it.b.expire(k); err != nil {
				it.err = err
				return nil, nil, false
			}
			continue
		}
		return k[it.prefix:], payload, true
	}
}

// Close releases the iterator and returns the first error it met.
func (it *Iter) Close() error {
	if it.it != nil {
		if err := it.it.Close(); err != nil && it.err == nil {
			it.err = fmt.Errorf("iterating state: %w", err)
		}
		it.it = nil
		it.b.openIters--
	}
	return it.err
}
