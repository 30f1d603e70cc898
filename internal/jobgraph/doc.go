// Package jobgraph holds the execution plan types that the control plane builds and
// the workers run: the JobGraph (vertices of chained steps and the edges between
// them, each with a partitioning) and the per-subtask deployment descriptor.
//
// These are leaf types shared by control and worker; they carry no behaviour beyond
// small helpers, so that the distributed runtime can put them on the wire unchanged.
package jobgraph
