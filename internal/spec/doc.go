// Package spec parses and validates job specs (DESIGN §6, "Job spec").
//
// # Contract
//
// Parse takes a spec as YAML or JSON (JSON is read as YAML, so positions are the
// same for both) and returns a *Job: defaults filled in, inputs resolved, valid as
// Validate defines it. Otherwise it returns a *Error, which is always the caller's
// to fix (a 4xx at the REST boundary, whose error envelope is the Error's JSON
// form); Parse never panics on any input.
//
// An Error names the field in the spec's path syntax ("pipeline[2].map.function";
// for an unknown or duplicate key, the mapping that holds it) and its line and
// column. Parse reports one error: first the problems with the document's shape
// (YAML syntax, unknown keys, types, values), and only when there are none the
// problems with the job as a whole (ids, inputs, sources and sinks); among either,
// the first by position. The same input always gives the same error.
//
// # Grammar
//
// The parser knows every key DESIGN §6 reserves, including those its example only
// names in comments (grammar.go holds the table). A key it does not know is an error
// that suggests the closest known key when there is one. A known key, or a known
// value of an enumeration, whose capability is not built yet is an error with
// Unsupported set ("not supported yet"); errors.Is(err, errors.ErrUnsupported)
// reports it. Supported today: name, parallelism, max_parallelism, buffer_timeout,
// limits, restart (none, fixed_delay, exponential_delay, failure_rate) and
// pipeline; steps with id, input, parallelism, chain, slot_sharing_group, config
// and limits, of the kinds source (JetStream), map, filter, flat_map, key_by (a
// JSON field or a key_selector function), partition (forward, rebalance, rescale,
// broadcast, global) and sink (JetStream, at-least-once).
//
// A key_by step runs in the subtasks of the step it reads (so it takes no
// parallelism, chain or slot_sharing_group) and gives the edge after it a hash
// partitioning; it cannot read a partition step or another key_by, nor be read by
// either.
//
// # The pipeline
//
// Steps run in spec order, each reading one earlier step: the one named by input,
// or by default the step before it. The first step is a source; a source reads
// nothing; a sink's output cannot be read; the pipeline has at least one sink, and
// the output of every step other than a sink is read by some step. A step's id
// defaults to "<kind>-<index>" (e.g. "map-1"); since state is mapped by id, a
// default id changes meaning when steps are inserted before it.
//
// # YAML
//
// Anchors, aliases and merge keys (<<) work as YAML defines them; an alias inside
// the value it names, and a document that aliases expand beyond a million nodes,
// are errors. A spec is one document; an empty document is an error. A step's
// config is converted to JSON faithfully: key order kept, integers kept as written
// when JSON can write them so, YAML's other spellings of numbers (0x1F, 1_000)
// converted, strings and times kept as written.
//
// # Jobs in code
//
// Job is plain data that round-trips through encoding/json (durations as Go
// duration strings, sizes in bytes), for the control plane to store and return.
// A Job built or changed in code (a rescale) is checked with Defaults, then
// Validate. Nothing in this package holds state; its functions are safe for
// concurrent use, and a Job is safe to share once no one modifies it.
package spec
