package timer

import (
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/weir-streams/weir/worker/internal/state"
)

// Domain is the clock a timer follows.
type Domain uint8

const (
	// EventTime timers fire when the watermark reaches their time.
	EventTime Domain = iota
	// ProcessingTime timers fire when the wall clock reaches their time.
	ProcessingTime
)

func (d Domain) String() string {
	if d == ProcessingTime {
		return "processing-time"
	}
	return "event-time"
}

// Timer is a fired timer. Key and Namespace alias the service's memory and are
// valid until the next call.
type Timer struct {
	Domain    Domain
	Time      int64
	KeyGroup  int
	Key       []byte
	Namespace []byte
}

// Service holds an operator's timers.
type Service struct {
	b      *state.Backend
	states [2]state.State
	heaps  [2]timerHeap
	// live holds every registered timer by its entry: domain byte, then the
	// state sub-key (time, key group, key, namespace).
	live map[string]struct{}
	sub  []byte // scratch
	// popped holds the last popped timer's entry; Pop's result aliases it.
	popped []byte
	out    Timer
}

// entry is a timer in the heap; id is its live-map key.
type entry struct {
	time int64
	id   string
}

type timerHeap []entry

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].time != h[j].time {
		return h[i].time < h[j].time
	}
	return h[i].id < h[j].id
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)   { *h = append(*h, x.(entry)) }
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// New returns the timer service of operator (a step id) over b, loading the
// timers b holds in its key groups.
func New(b *state.Backend, operator string) (*Service, error) {
	s := &Service{b: b, live: make(map[string]struct{})}
	for d, name := range []string{"timers/event", "timers/processing"} {
		st, err := b.Register(operator, name, state.Map, 0)
		if err != nil {
			return nil, err
		}
		s.states[d] = st
	}
	r := b.KeyGroups()
	for d := range s.states {
		for kg := r.First; kg <= r.Last; kg++ {
			it := b.Iterator(s.states[d], kg, nil, nil)
			for sub, _, ok := it.Next(); ok; sub, _, ok = it.Next() {
				if _, _, _, _, err := decodeSub(sub); err != nil {
					_ = it.Close()
					return nil, fmt.Errorf("loading timers of %q: %w", operator, err)
				}
				id := string(append([]byte{byte(d)}, sub...))
				s.live[id] = struct{}{}
				s.heaps[d] = append(s.heaps[d], entry{time: timeOf(sub), id: id})
			}
			if err := it.Close(); err != nil {
				return nil, fmt.Errorf("loading timers of %q: %w", operator, err)
			}
		}
		heap.Init(&s.heaps[d])
	}
	return s, nil
}

// The sub-key of a timer: time (i64 big endian, sign bit flipped so that byte
// order is time order) | key group (u16) | u32 key length | key | namespace.
func appendSub(dst []byte, t int64, kg int, key, ns []byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(t)^(1<<63))
	dst = binary.BigEndian.AppendUint16(dst, uint16(kg))
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(key)))
	dst = append(dst, key...)
	return append(dst, ns...)
}

var errMalformed = errors.New("malformed timer entry")

func timeOf(sub []byte) int64 { return int64(binary.BigEndian.Uint64(sub) ^ (1 << 63)) }

func decodeSub(sub []byte) (t int64, kg int, key, ns []byte, err error) {
	if len(sub) < 14 {
		return 0, 0, nil, nil, errMalformed
	}
	t = timeOf(sub)
	kg = int(binary.BigEndian.Uint16(sub[8:]))
	n := binary.BigEndian.Uint32(sub[10:])
	if uint64(n) > uint64(len(sub)-14) {
		return 0, 0, nil, nil, errMalformed
	}
	return t, kg, sub[14 : 14+n], sub[14+n:], nil
}

// Register adds the timer (d, t) for key (in key group kg) and namespace ns.
// Registering a timer that exists does nothing.
func (s *Service) Register(d Domain, kg int, key, ns []byte, t int64) error {
	s.sub = appendSub(append(s.sub[:0], byte(d)), t, kg, key, ns)
	if _, ok := s.live[string(s.sub)]; ok {
		return nil
	}
	if err := s.b.Put(s.states[d], kg, nil, nil, s.sub[1:], nil); err != nil {
		return err
	}
	id := string(s.sub)
	s.live[id] = struct{}{}
	heap.Push(&s.heaps[d], entry{time: t, id: id})
	return nil
}

// Delete removes the timer (d, t) for key and ns, if it exists.
func (s *Service) Delete(d Domain, kg int, key, ns []byte, t int64) error {
	s.sub = appendSub(append(s.sub[:0], byte(d)), t, kg, key, ns)
	if _, ok := s.live[string(s.sub)]; !ok {
		return nil
	}
	delete(s.live, string(s.sub))
	// The heap keeps its entry; Pop skips entries no longer live.
	return s.b.Delete(s.states[d], kg, nil, nil, s.sub[1:])
}

// Pop removes and returns the earliest timer of domain d whose time is at most
// upTo; ok is false when there is none.
func (s *Service) Pop(d Domain, upTo int64) (t Timer, ok bool, err error) {
	h := &s.heaps[d]
	for h.Len() > 0 {
		top := (*h)[0]
		if top.time > upTo {
			return Timer{}, false, nil
		}
		heap.Pop(h)
		if _, live := s.live[top.id]; !live {
			continue
		}
		delete(s.live, top.id)
		// One copy, reused: the fired timer's key and namespace alias it.
		s.popped = append(s.popped[:0], top.id[1:]...)
		tm, kg, key, ns, derr := decodeSub(s.popped)
		if derr != nil {
			return Timer{}, false, derr
		}
		if err := s.b.Delete(s.states[d], kg, nil, nil, s.popped); err != nil {
			return Timer{}, false, err
		}
		s.out = Timer{Domain: d, Time: tm, KeyGroup: kg, Key: key, Namespace: ns}
		return s.out, true, nil
	}
	return Timer{}, false, nil
}

// Next returns the time of the earliest timer of domain d; ok is false when
// there is none.
func (s *Service) Next(d Domain) (t int64, ok bool) {
	h := &s.heaps[d]
	for h.Len() > 0 {
		top := (*h)[0]
		if _, live := s.live[top.id]; live {
			return top.time, true
		}
		heap.Pop(h)
	}
	return 0, false
}

// Len is the number of timers registered in domain d.
func (s *Service) Len(d Domain) int {
	n := 0
	for id := range s.live {
		if Domain(id[0]) == d {
			n++
		}
	}
	return n
}
