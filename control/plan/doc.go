// Package plan turns a validated job spec into the JobGraph a job runs: it resolves
// explicit partition steps into edge partitionings, picks forward or rebalance where
// the spec is silent (forward between equal parallelisms, as in Flink), and chains
// steps into vertices (DESIGN §2). It is pure: no I/O, deterministic output.
//
// A key_by step runs at the tail of the chain it reads, with that chain's
// parallelism: it is the sender side of a hash edge, setting each record's key,
// and every edge leaving it is jobgraph.Hash, so the step after it starts a new
// vertex, which may have any parallelism. Steps chain only across forward edges.
//
// Descriptors carry the job's max_parallelism (its number of key groups, default
// 128), which Build checks against internal/keygroup's bounds and every vertex's
// parallelism.
package plan
