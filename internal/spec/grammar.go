package spec

// The grammar of a job spec: every key DESIGN §6 reserves, where it may appear, and
// whether it is supported yet. The decoder reads supported keys itself and uses this
// table to refuse unknown keys anywhere and reserved keys with "not supported yet";
// inside a reserved key it still checks for unknown keys, so the whole grammar stays
// known while capabilities are built one by one. Building one means flipping its
// soon flag and teaching the decoder its values.

// shape is what may appear at one place of the document.
type shape struct {
	keys  map[string]*field // keys of a mapping; nil when the value is not a mapping
	items *shape            // shape of a list's items; nil when the value is not a list
}

// field is one key of a mapping.
type field struct {
	shape *shape // nil: a scalar, or a value whose shape is not checked
	soon  bool   // known, but "not supported yet"
}

var (
	leaf     = &field{}
	soonLeaf = &field{soon: true}
)

func mapping(keys map[string]*field) *shape { return &shape{keys: keys} }

func known(s *shape) *field { return &field{shape: s} }

func soon(s *shape) *field { return &field{shape: s, soon: true} }

var (
	limitsShape = mapping(map[string]*field{"memory": leaf, "call_timeout": leaf})

	// udfShape is a user function: map, filter, flat_map, process, reduce,
	// co_process, and the UDF forms of timestamps, key_by and aggregate.
	udfShape = mapping(map[string]*field{"module": leaf, "function": leaf})

	startShape           = mapping(map[string]*field{"sequence": leaf, "time": leaf})
	partitionsShape      = mapping(map[string]*field{"count": leaf, "token": leaf})
	jetstreamSourceShape = mapping(map[string]*field{
		"stream":     leaf,
		"subjects":   leaf,
		"start":      known(startShape),
		"partitions": known(partitionsShape),
	})
	sourceShape = mapping(map[string]*field{"jetstream": known(jetstreamSourceShape)})

	jetstreamSinkShape = mapping(map[string]*field{"subject": leaf})
	sinkShape          = mapping(map[string]*field{"jetstream": known(jetstreamSinkShape), "delivery": leaf})

	// keyByShape is a JSON field or a key-selector function.
	keyByShape = mapping(map[string]*field{"json_field": leaf, "module": leaf, "function": leaf})

	timestampsShape = mapping(map[string]*field{
		"json_field":           leaf,
		"max_out_of_orderness": leaf,
		"idle_timeout":         leaf,
		"udf":                  known(udfShape),
		"ingestion":            leaf,
		"punctuated":           leaf,
	})

	// windowShape assigns windows: one of tumbling (a size), sliding, session,
	// count and global, plus how the window fires.
	windowShape = mapping(map[string]*field{
		"tumbling": leaf,
		"sliding":  known(mapping(map[string]*field{"size": leaf, "slide": leaf})),
		"session":  known(mapping(map[string]*field{"gap": leaf})),
		"count":    known(mapping(map[string]*field{"size": leaf, "slide": leaf})),
		"global":   known(mapping(map[string]*field{})),
		"time":     leaf,
		"trigger": known(mapping(map[string]*field{
			"event_time": leaf, "processing_time": leaf, "count": leaf,
			"continuous_event_time": leaf, "continuous_processing_time": leaf,
			"module": leaf, "function": leaf, "purging": leaf,
		})),
		"evictor":          known(mapping(map[string]*field{"count": leaf, "time": leaf, "module": leaf, "function": leaf})),
		"allowed_lateness": leaf,
		"late_output":      leaf,
	})

	// joinWindowShape is a window join's window: time windows in event time.
	joinWindowShape = mapping(map[string]*field{
		"tumbling": leaf,
		"sliding":  known(mapping(map[string]*field{"size": leaf, "slide": leaf})),
		"session":  known(mapping(map[string]*field{"gap": leaf})),
	})

	stepShape = mapping(map[string]*field{
		"id":                 leaf,
		"input":              leaf,
		"inputs":             leaf,
		"parallelism":        leaf,
		"chain":              leaf,
		"slot_sharing_group": leaf,
		"config":             leaf,
		"limits":             known(limitsShape),
		"timestamps":         known(timestampsShape),

		"source":   known(sourceShape),
		"map":      known(udfShape),
		"filter":   known(udfShape),
		"flat_map": known(udfShape),
		"process":  known(udfShape),
		"reduce":   known(udfShape),
		"key_by":   known(keyByShape),
		"window":   known(windowShape),
		"aggregate": known(mapping(map[string]*field{
			"builtin": leaf, "field": leaf, "module": leaf, "function": leaf,
		})),
		"partition": leaf,
		"union":     known(mapping(map[string]*field{})),
		// A join emits {"left": ..., "right": ...} rows; a map step after it
		// shapes them.
		"join": known(mapping(map[string]*field{
			"type": leaf, "window": known(joinWindowShape),
			"lower_bound": leaf, "upper_bound": leaf, "outer": leaf,
		})),
		"co_process": known(udfShape),
		"sink":       known(sinkShape),
	})

	// restartShape holds the keys of every strategy; restartParams says which
	// belong to which.
	restartShape = mapping(map[string]*field{
		"strategy": leaf,
		"attempts": leaf, "delay": leaf,
		"initial": leaf, "max": leaf, "multiplier": leaf, "reset_after": leaf,
		"max_failures": leaf, "interval": leaf,
	})

	checkpointingShape = mapping(map[string]*field{
		"interval": leaf, "mode": leaf, "timeout": leaf, "min_pause": leaf,
		"max_concurrent": leaf, "tolerable_failures": leaf, "retain": leaf,
		"retain_on_cancel": leaf, "unaligned": soonLeaf,
	})

	jobShape = mapping(map[string]*field{
		"name":                     leaf,
		"parallelism":              leaf,
		"max_parallelism":          leaf,
		"buffer_timeout":           leaf,
		"checkpointing":            known(checkpointingShape),
		"restart":                  known(restartShape),
		"from_savepoint":           leaf,
		"allow_non_restored_state": leaf,
		"limits":                   known(limitsShape),
		"pipeline":                 known(&shape{items: stepShape}),
	})
)

// restartParams lists the keys each restart strategy takes besides strategy.
var restartParams = map[RestartStrategy][]string{
	RestartNone:             nil,
	RestartFixedDelay:       {"attempts", "delay"},
	RestartExponentialDelay: {"initial", "max", "multiplier", "reset_after"},
	RestartFailureRate:      {"max_failures", "interval", "delay"},
}

// kindKeys are the step keys that give a step its kind, in the order messages list
// them.
var kindKeys = []Kind{
	KindSource, KindMap, KindFilter, KindFlatMap, KindProcess, KindReduce,
	KindKeyBy, KindWindow, KindAggregate, KindPartition, KindUnion, KindJoin,
	KindCoProcess, KindSink,
}

// windowFunctions are the kinds that may share a step with a window: the function
// applied to each fired window.
var windowFunctions = map[Kind]bool{KindAggregate: true, KindReduce: true, KindProcess: true}

// supportedKinds are the kinds built so far.
var supportedKinds = map[Kind]bool{
	KindSource: true, KindMap: true, KindFilter: true, KindFlatMap: true,
	KindKeyBy: true, KindPartition: true, KindSink: true, KindProcess: true, KindReduce: true,
	KindWindow: true, KindUnion: true, KindJoin: true, KindCoProcess: true,
}

// udfKinds are the supported kinds that always run a user function, and so take
// config and limits (a key_by step runs one only in its module form; see
// Step.RunsUDF).
var udfKinds = map[Kind]bool{KindMap: true, KindFilter: true, KindFlatMap: true, KindProcess: true, KindReduce: true, KindCoProcess: true}

// keyedKinds are the kinds that read a keyed stream: they must read a key_by step.
var keyedKinds = map[Kind]bool{KindProcess: true, KindReduce: true}

var (
	partitionings = []Partitioning{PartitionForward, PartitionRebalance, PartitionRescale, PartitionBroadcast, PartitionGlobal}
	deliveries    = []Delivery{DeliveryAtLeastOnce, DeliveryExactlyOnce}
	modes         = []CheckpointMode{ExactlyOnce, AtLeastOnce}
	strategies    = []RestartStrategy{RestartNone, RestartFixedDelay, RestartExponentialDelay, RestartFailureRate}
)

// supportedValues are the values of reserved enumerations that are built so far.
var supportedValues = map[any]bool{
	PartitionForward: true, PartitionRebalance: true, PartitionRescale: true,
	PartitionBroadcast: true, PartitionGlobal: true,
	DeliveryAtLeastOnce: true, DeliveryExactlyOnce: true,
	ExactlyOnce: true, AtLeastOnce: true,
	RestartNone: true, RestartFixedDelay: true, RestartExponentialDelay: true, RestartFailureRate: true,
}

// supported reports whether a known value of a reserved enumeration is built yet.
func supported[T ~string](v T) bool { return supportedValues[v] }
