// Package timestamp assigns event time to the records of a batch: from a
// top-level member of their JSON payload (an integer number of milliseconds
// since the Unix epoch, or an RFC 3339 string), or the time the batch is
// processed (ingestion time). A record without a usable timestamp is dropped
// and counted: it could only be wrong in every window. The operator is the
// first step of a source task's chain and allocates nothing per record.
package timestamp
