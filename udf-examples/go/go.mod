module github.com/weir-streams/weir/udf-examples/go

go 1.24

require github.com/weir-streams/weir/sdk/go v0.0.0

replace github.com/weir-streams/weir/sdk/go => ../../sdk/go
