// Package plan turns a validated job spec into the JobGraph a job runs: it resolves
// explicit partition steps into edge partitionings, picks forward or rebalance where
// the spec is silent (forward between equal parallelisms, as in Flink), and chains
// steps into vertices (DESIGN §2). It is pure: no I/O, deterministic output.
package plan
