// Package timestamp assigns event time to the records of a batch, the first
// step of a source task's chain.
//
// An Operator made by NewJSONField reads each record's timestamp from a
// top-level member of its JSON payload:
//
//   - a JSON number of milliseconds since the Unix epoch that is a whole
//     number: 1700000000123, also 1.7e12 or 1500.0 (exactly, with no float
//     rounding), negative ones too; one with a fraction (1.5) or outside the
//     int64 range is not usable;
//   - or an RFC 3339 string, YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm), years
//     0000 to 9999, the fraction truncated to the millisecond; escapes in the
//     string are read as JSON reads them. A leap second (:60) is not usable.
//
// The payload must be valid JSON (encoding/json.Valid) and an object; the first
// member of that name counts. A record without a usable timestamp (no such
// member, null, another type, a string that is not a time, a payload that is
// not a JSON object) is dropped and counted in Stats.Invalid.
//
// An Operator made by NewIngestion gives every record of a batch the time its
// clock reads once when the batch is processed: ingestion time.
//
// Process keeps the records it does not drop in order, byte for byte but for
// the timestamp, which it sets (the TIMESTAMP flag set, any earlier timestamp
// replaced). The batch it returns is the operator's own, valid until the next
// call, and MaxTimestamp is that batch's largest timestamp, math.MinInt64 when
// it is empty. In steady state Process allocates nothing per record; only a
// payload that is not JSON at all costs an allocation inside encoding/json.
//
// An Operator belongs to one task goroutine. Its Stats are atomic counters that
// any goroutine may read.
package timestamp
