package window

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/weir-streams/weir/internal/record"
	"github.com/weir-streams/weir/wasmhost"
)

// Functions are a window step's user functions (sdk/ABI.md §4.5–4.6): an
// aggregate (or a reduce function) that folds records into accumulators, a
// window process function that gets each fired window, or both (the process
// function then gets the aggregate's result as the window's one element).
//
// Trigger and Evictor are a custom trigger and evictor (§4.9, §4.10), used
// when Config.Trigger or Config.Evictor is of kind CustomTrigger or
// CustomEvictor; a step may have them with a built-in aggregate (Functions
// without Aggregate and Process).
type Functions struct {
	Aggregate AggregateCaller
	Process   WindowCaller
	Trigger   TriggerCaller
	Evictor   EvictorCaller
}

// AggregateCaller runs aggregate calls: a *wasmhost.Instance of an aggregate or
// reduce function.
type AggregateCaller interface {
	Aggregate(ctx context.Context, f *wasmhost.AggregateFrame) ([][]byte, error)
}

// WindowCaller runs window calls: a *wasmhost.Instance of a window_process
// function.
type WindowCaller interface {
	Window(ctx context.Context, f *wasmhost.WindowFrame) (*record.Batch, error)
}

// pendingAdd is a record waiting for its window's accumulator: user aggregates
// fold a whole batch in one call.
type pendingAdd struct {
	ks  *keyState
	id  uint64
	rec record.View // aliases the batch being processed
}

// fire is a window fired by the current call, waiting for the user functions.
type fire struct {
	ks         *keyState
	start, end int64
	// accs are its panes' accumulators (one for tumbling and session windows).
	accs [][]byte
	// elems says accs[0] is the window's elements (a batch frame), which a
	// user aggregate folds when the window fires (the trigger path).
	elems bool
	// tsSet says results carry timestamp ts (none unless hasTS) rather than
	// end-1: count and global windows.
	tsSet, hasTS bool
	ts           int64
}

// fnBuffers are the frames and scratch space of user function calls, reused.
type fnBuffers struct {
	agg  *wasmhost.AggregateFrame
	win  *wasmhost.WindowFrame
	recs []byte
	elem record.Batch
	// resolve's grouping: window id -> group, each pending add's group, the
	// groups' windows and first positions, pending adds in group order.
	order   map[uint64]int
	groupOf []int
	wins    []*win
	starts  []int
	next    []int
	sorted  []int
}

// newWin returns a window with a fresh accumulator (none yet for a user
// aggregate).
func (o *Operator) newWin(start, end int64) win {
	o.nextID++
	w := win{start: start, end: end, id: o.nextID}
	if o.batched {
		w.fresh = true
	} else {
		w.acc = o.cfg.Aggregate.New(nil)
	}
	return w
}

// add folds record v into window w of ks, or queues it for a user aggregate.
func (o *Operator) add(ks *keyState, w *win, v *record.View) {
	if !o.batched {
		w.acc = o.cfg.Aggregate.Add(w.acc, v)
		return
	}
	if w.id == 0 {
		o.nextID++
		w.id = o.nextID
	}
	o.pending = append(o.pending, pendingAdd{ks: ks, id: w.id, rec: *v})
}

// resolve folds the pending records into their windows' accumulators with one
// add call, grouping each window's records in arrival order.
func (o *Operator) resolve() error {
	if len(o.pending) == 0 {
		return nil
	}
	b := &o.fnBuf
	if b.agg == nil {
		b.agg = wasmhost.NewAggregateFrame(wasmhost.AggregateAdd)
	}
	b.agg.Reset(wasmhost.AggregateAdd)
	// Group by window, keeping the order of first arrival; within a group, the
	// records' own order (a counting sort over reused buffers).
	if b.order == nil {
		b.order = make(map[uint64]int)
	}
	clear(b.order)
	b.groupOf, b.wins, b.starts = b.groupOf[:0], b.wins[:0], b.starts[:0]
	for _, p := range o.pending {
		g, ok := b.order[p.id]
		if !ok {
			w := findWin(p.ks, p.id)
			if w == nil {
				return fmt.Errorf("window %q: a pending record lost its window", o.cfg.Operator)
			}
			g = len(b.wins)
			b.order[p.id] = g
			b.wins = append(b.wins, w)
			b.starts = append(b.starts, 0)
		}
		b.groupOf = append(b.groupOf, g)
		b.starts[g]++
	}
	sum := 0
	for g, n := range b.starts {
		b.starts[g], sum = sum, sum+n
	}
	b.sorted = slices.Grow(b.sorted[:0], len(o.pending))[:len(o.pending)]
	next := append(b.next[:0], b.starts...)
	for k, g := range b.groupOf {
		b.sorted[next[g]] = k
		next[g]++
	}
	b.next = next
	for g, w := range b.wins {
		end := len(o.pending)
		if g+1 < len(b.starts) {
			end = b.starts[g+1]
		}
		b.recs = b.recs[:0]
		for _, k := range b.sorted[b.starts[g]:end] {
			b.recs = record.AppendView(b.recs, &o.pending[k].rec)
		}
		b.agg.AddGroupEncoded(w.acc, !w.fresh, end-b.starts[g], b.recs)
	}
	out, err := o.cfg.Functions.Aggregate.Aggregate(o.ctx, b.agg)
	if err != nil {
		return err
	}
	for g, w := range b.wins {
		// The accumulator's memory is the window's own: reuse it.
		w.acc, w.fresh = append(w.acc[:0:len(w.acc)], out[g]...), false
	}
	clear(b.wins)
	clear(o.pending)
	o.pending = o.pending[:0]
	return nil
}

func findWin(ks *keyState, id uint64) *win {
	for i := range ks.wins {
		if ks.wins[i].id == id {
			return &ks.wins[i]
		}
	}
	return nil
}

// mergeAccs merges accumulators into one (sessions that a record bridges).
func (o *Operator) mergeAccs(accs [][]byte) ([]byte, error) {
	if !o.batched {
		acc := o.cfg.Aggregate.New(nil)
		for _, a := range accs {
			acc = o.cfg.Aggregate.Merge(acc, a)
		}
		return acc, nil
	}
	f := o.aggFrame(wasmhost.AggregateMerge)
	f.MergeGroup(accs[0], accs[1:])
	out, err := o.cfg.Functions.Aggregate.Aggregate(o.ctx, f)
	if err != nil {
		return nil, err
	}
	return slices.Clone(out[0]), nil
}

func (o *Operator) aggFrame(op wasmhost.AggregateOp) *wasmhost.AggregateFrame {
	if o.fnBuf.agg == nil {
		o.fnBuf.agg = wasmhost.NewAggregateFrame(op)
	}
	o.fnBuf.agg.Reset(op)
	return o.fnBuf.agg
}

var errNoElements = errors.New("malformed window elements")

// finishFires turns the windows fired by the current call into outputs with the
// user functions: merge the panes' accumulators and read the results in one
// call each, then hand the windows to the process function in one call.
func (o *Operator) finishFires() error {
	if len(o.fires) == 0 {
		return nil
	}
	defer func() {
		clear(o.fires)
		o.fires = o.fires[:0]
	}()
	fns := o.cfg.Functions
	var results [][]byte
	if fns.Aggregate != nil {
		// Windows that kept their elements get accumulators first: one add
		// call for them all.
		add := o.aggFrame(wasmhost.AggregateAdd)
		var added []int
		for k, f := range o.fires {
			if f.elems {
				add.AddGroupEncoded(nil, false, int(binary.LittleEndian.Uint32(f.accs[0])), f.accs[0][4:])
				added = append(added, k)
			}
		}
		if len(added) > 0 {
			out, err := fns.Aggregate.Aggregate(o.ctx, add)
			if err != nil {
				return err
			}
			for j, k := range added {
				o.fires[k].accs = [][]byte{slices.Clone(out[j])}
			}
		}
		merge := o.aggFrame(wasmhost.AggregateMerge)
		var merged []int
		for k, f := range o.fires {
			if len(f.accs) > 1 {
				merge.MergeGroup(f.accs[0], f.accs[1:])
				merged = append(merged, k)
			}
		}
		if len(merged) > 0 {
			out, err := fns.Aggregate.Aggregate(o.ctx, merge)
			if err != nil {
				return err
			}
			for j, k := range merged {
				o.fires[k].accs = [][]byte{slices.Clone(out[j])}
			}
		}
		res := o.aggFrame(wasmhost.AggregateResult)
		for _, f := range o.fires {
			res.ResultGroup(f.accs[0])
		}
		out, err := fns.Aggregate.Aggregate(o.ctx, res)
		if err != nil {
			return err
		}
		results = out
		if fns.Process == nil {
			for k, f := range o.fires {
				v := record.View{Flags: record.FlagTimestamp | record.FlagPayload, Timestamp: f.end - 1, Payload: results[k]}
				if f.tsSet {
					v.Flags, v.Timestamp = record.FlagPayload, f.ts
					if f.hasTS {
						v.Flags |= record.FlagTimestamp
					}
				}
				if o.cfg.Keyed {
					v.Flags |= record.FlagKey
					v.Key = f.ks.key
				}
				o.out.Append(&v)
			}
			return nil
		}
	}
	wf := o.fnBuf.win
	if wf == nil {
		wf = wasmhost.NewWindowFrame()
		o.fnBuf.win = wf
	}
	wf.Reset()
	for k, f := range o.fires {
		if results != nil {
			o.fnBuf.elem.Reset()
			o.fnBuf.elem.Append(&record.View{Flags: record.FlagPayload, Payload: results[k]})
			wf.Add(f.start, f.end, f.ks.key, o.cfg.Keyed, &o.fnBuf.elem)
		} else {
			acc := f.accs[0]
			if len(acc) < 4 {
				return errNoElements
			}
			wf.AddEncoded(f.start, f.end, f.ks.key, o.cfg.Keyed, int(binary.LittleEndian.Uint32(acc)), acc[4:])
		}
		if f.tsSet {
			wf.SetTimestamp(f.ts, f.hasTS)
		}
	}
	out, err := fns.Process.Window(o.ctx, wf)
	if err != nil {
		return err
	}
	o.out.AppendEncoded(out.Records(), out.Len())
	return nil
}

// collect keeps a window's elements as its accumulator, for a window process
// function without an aggregate: u32 count, then the records.
type collect struct{}

func (collect) Name() string { return "elements" }

func (collect) New(dst []byte) []byte { return binary.LittleEndian.AppendUint32(dst, 0) }

func (collect) Add(acc []byte, v *record.View) []byte {
	binary.LittleEndian.PutUint32(acc, binary.LittleEndian.Uint32(acc)+1)
	return record.AppendView(acc, v)
}

func (collect) Merge(dst, src []byte) []byte {
	binary.LittleEndian.PutUint32(dst, binary.LittleEndian.Uint32(dst)+binary.LittleEndian.Uint32(src))
	return append(dst, src[4:]...)
}

func (collect) AppendResult(dst, acc []byte) []byte { return append(dst, acc...) }
