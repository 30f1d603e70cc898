// Package keygroup assigns keys to key groups and key groups to subtasks
// (DESIGN §5, "Keys and key groups").
//
// This is a permanent format: savepoints store state by key group, so the
// functions here must give the same answer in every version of Weir. Never change
// them; a different assignment needs a new, separately named scheme.
//
// # The assignment
//
// A job has max_parallelism key groups, numbered 0 to maxP-1. A key, given as its
// key bytes (see DESIGN §5 for what they are), belongs to
//
//	key_group = murmur3_32(key bytes, seed 0) mod maxP
//
// where murmur3_32 is Austin Appleby's MurmurHash3_x86_32, its 32-bit result read
// as unsigned. With parallelism p, key group kg belongs to subtask
//
//	subtask = kg * p / maxP            (integer division)
//
// so subtask i owns the contiguous range of key groups
//
//	[ceil(i*maxP/p), ceil((i+1)*maxP/p) - 1]
//
// This is Flink's assignment of key groups to operator indexes; rescaling moves
// whole ranges of key groups, never single keys. Every range is non-empty when
// 1 <= p <= maxP, and the ranges of subtasks 0 to p-1 are disjoint and cover every
// key group.
//
// # Bounds
//
// maxP is 1 to MaxParallelism (32768, so that a key group fits the two-byte prefix
// of a state key) and p is 1 to maxP. Check validates both; the other functions
// assume valid arguments (they are on the per-record path) and may panic or return
// nonsense otherwise, so callers check once, when a task is set up.
//
// Every function is pure, safe for concurrent use and allocates nothing.
package keygroup
