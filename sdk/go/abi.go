package weir

// Version is the SDK version reported in the module description ("sdk": "go/<Version>").
const Version = "0.1.0"

// abiVersion is the version of sdk/ABI.md this package implements.
const abiVersion = 1

// Call kinds, the first argument of weir_call (ABI §4).
const (
	callOpen      = 1
	callProcess   = 2
	callProcess2  = 3
	callTimer     = 4
	callWindow    = 5
	callClose     = 6
	callAggregate = 7
	callTrigger   = 8
	callEvict     = 9
)

// Return codes of weir_call (ABI §4).
const (
	rcOK             = 0
	rcError          = 1
	rcUnknownFn      = 2
	rcUnsupported    = 3
	rcMalformedInput = 4
)

// Record flags (ABI §5).
const (
	flagKey       = 0x01
	flagTimestamp = 0x02
	flagPayload   = 0x04
	flagHeaders   = 0x08
	flagReserved  = 0xF0
)

// noParent is the input_index of an output that derives from no input record.
const noParent = 0xFFFFFFFF
