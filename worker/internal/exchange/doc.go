// Package exchange moves buffers between the subtasks of one worker process.
//
// A Gate is the input side of one subtask for one edge: a bounded FIFO queue that
// every upstream subtask of that edge writes into. Each Buffer names the upstream
// channel it came from, and buffers of one channel stay in order, so in-band events
// (progress markers, end of partition) keep their place among the records. A full
// gate blocks its writers: that is backpressure, and it reaches the sources.
//
// A Registry hands out gates by (job, attempt, edge, subtask), creating them on first
// use so that producers and consumers may be deployed in any order.
package exchange
