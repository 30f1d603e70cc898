package wasmhost

import "github.com/weir-streams/weir/internal/record"

// Side outputs (sdk/ABI.md §4, §5): an output with tag k+1 goes to the
// function's side output k, Function.SideOutputs[k]. Process, process2, timer
// and window calls may emit to them; aggregate, trigger and evict calls may not
// (their outputs are answers to the host, tag 0 alone).

// SideOutputs returns the current call's side outputs: element k holds what the
// function emitted with tag k+1, to Function.SideOutputs[k], with the fields each
// record inherits from its parent filled in exactly as for the main output. The
// batches belong to the instance: they are emptied at the start of every call and
// valid until then; after a failed call they are empty. The slice itself is the
// same for the life of the instance.
func (i *Instance) SideOutputs() []*record.Batch { return i.sidePtrs }

// SideOutput returns the current call's output with wire tag tag (1 for the first
// declared side output), or nil when the function declares no such side output.
// It is valid until the next call, like SideOutputs.
func (i *Instance) SideOutput(tag int) *record.Batch {
	if tag < 1 || tag > len(i.sidePtrs) {
		return nil
	}
	return i.sidePtrs[tag-1]
}

// SideOutputNames returns the names of the function's side outputs, in tag order:
// name k is that of tag k+1 and of SideOutputs()[k]. The slice must not be
// modified.
func (i *Instance) SideOutputNames() []string { return i.fn.SideOutputs }

// initSideOutputs makes one batch per declared side output.
func (i *Instance) initSideOutputs() {
	n := len(i.fn.SideOutputs)
	i.side = make([]record.Batch, n)
	i.sidePtrs = make([]*record.Batch, n)
	for k := range i.side {
		i.sidePtrs[k] = &i.side[k]
	}
}

// clearSideOutputs empties the side outputs, keeping their memory. A batch that
// was never written to stays as it is, so side outputs a function never uses cost
// no memory.
func (i *Instance) clearSideOutputs() {
	for k := range i.side {
		if i.side[k].Len() > 0 {
			i.side[k].Reset()
		}
	}
}
