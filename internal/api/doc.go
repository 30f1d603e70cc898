// Package api is the contract between the control plane and its workers: the two
// services they call on each other, shaped like the gRPC services the distributed
// runtime puts on the wire. In `weir standalone` both sides are in one process and
// call each other through these interfaces directly; nothing else crosses the line
// between control and worker.
//
// All methods are safe for concurrent use and must not block for long: a worker's
// task reports and a control's deployments are asynchronous messages.
package api
