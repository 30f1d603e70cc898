module github.com/weir-streams/weir/sdk/go

go 1.24
