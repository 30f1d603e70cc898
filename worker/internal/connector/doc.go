// Package connector reads records from and writes records to NATS JetStream.
//
// A Source reads one stream through an ordered consumer (no durable consumer, no
// acks): its position is the stream sequence of the last record it handed on, and a
// restarted source resumes after the position the control plane saved. Records carry
// the message time as their timestamp and the message headers.
//
// A Sink publishes each record's payload unchanged to one subject, with the record's
// key and timestamp as the Weir-Key and Weir-Timestamp headers, asynchronously and
// with a bounded window of unacknowledged publishes. Sync waits until every publish
// so far is acknowledged: only then may the sink report progress. A publish that no
// stream acknowledges fails the sink; nothing is dropped silently.
package connector
