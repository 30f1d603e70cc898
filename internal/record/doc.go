// Package record defines Weir's record framing: the one binary layout a record has
// in network buffers, in the batches a chain passes between operators and in the
// frames handed to a Wasm UDF (sdk/ABI.md §5).
//
// A batch is a u32 record count followed by that many records. A record is a flags
// byte followed by the fields its flags announce (key, timestamp, payload, headers),
// little endian and length-prefixed. Because the same bytes travel through every
// stage, a received buffer is handed to a guest without re-encoding.
//
// The package is allocation-free on its per-record paths: a Builder appends into a
// reused byte slice and a Reader yields Views that alias the batch's bytes. A View is
// valid only as long as the bytes it was read from are neither modified nor reused.
// Nothing here is safe for concurrent use; a Batch has one owner at a time.
package record
