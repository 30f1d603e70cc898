# Weir's build. `make run` starts the platform; `make test` runs every test.
GO        ?= go
BIN       := $(CURDIR)/bin/weir
WASM_OUT  := $(CURDIR)/build/wasm
# One wazero compilation cache for every test process, so a module is compiled once.
export WEIR_TEST_WASM_CACHE := $(CURDIR)/build/wasm-cache
export WEIR_TEST_BIN := $(BIN)
export WEIR_TEST_WASM_DIR := $(WASM_OUT)
E2E_PKG   := ./internal/e2e/...
NESTED    := sdk/go udf-examples/go

.PHONY: all deps build run examples test unit conformance e2e ui-test docs-screenshot nested-test bench bench-state check clean proto

all: build examples

## deps: install what a fresh machine lacks (Debian packages with apt-get when root)
deps:
	@bash .ci/deps.sh

## build: the weir binary
build:
	$(GO) build -o $(BIN) ./cmd/weir

## run: build and start weir standalone (NATS JetStream, control plane, worker, UI on :8080)
run: build
	$(BIN) standalone

## examples: build every UDF example and test module into build/wasm
examples: deps
	$(MAKE) -C udf-examples OUT=$(WASM_OUT)

## test: every test of every module, after installing what is missing
test: deps build examples
	@$(MAKE) --no-print-directory unit conformance nested-test e2e

unit:
	@echo "== unit tests (-race)"
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v -e /internal/e2e -e /udf-examples/conformance)
	@echo "== allocation tests (without -race, which makes sync.Pool drop items)"
	$(GO) test -count=1 -run 'Alloc' ./worker/... ./internal/...

## conformance: every language's example UDFs, built from source, against the definitions
## (udf-examples/README.md, sdk/ABI.md) through Weir's Wasm host
conformance: deps examples
	@echo "== UDF conformance suite"
	$(GO) test -count=1 ./udf-examples/conformance/

nested-test:
	@for m in $(NESTED); do echo "== $$m"; (cd $$m && $(GO) test -count=1 ./...) || exit 1; done
	@echo "== sdk/rust (native unit tests)"
	cd sdk/rust && RUSTC=/usr/bin/rustc /usr/bin/cargo test --offline --target-dir $(CURDIR)/build/cargo-test

e2e:
	@echo "== end-to-end tests (-p 1)"
	$(GO) test -p 1 -count=1 -timeout 30m $(E2E_PKG)

## ui-test: only the browser tests of the web UI (part of e2e); screenshots go to $WEIR_UI_ARTIFACTS
ui-test: deps build examples
	$(GO) test -p 1 -count=1 -timeout 10m ./internal/e2e/ui/

## docs-screenshot: refresh docs/images/job-page.png from a running multi-vertex job
docs-screenshot: deps build examples
	WEIR_UI_DOCS_SCREENSHOT=$(CURDIR)/docs/images/job-page.png $(GO) test -count=1 -run 'TestJobLifecycle$$' ./internal/e2e/ui/

## bench: micro benchmarks and the end-to-end throughput ratio
bench: build examples
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1000x ./wasmhost/ ./internal/record/
	cd sdk/go && $(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) test -run '^$$' -bench . -benchmem ./udf-examples/
	$(GO) test -run '^$$' -bench Exchange -benchtime 1x ./worker/internal/exchange/
	$(GO) test -run '^$$' -bench 'State|Checkpoint64MB' -benchmem ./worker/internal/state/
	$(GO) test -run '^$$' -bench 'SlidingWindowCount' -benchtime 10000000x ./worker/internal/window/
	$(GO) test -run '^$$' -bench 'TumblingWindowSum' -benchtime 3000000x ./worker/internal/window/
	$(GO) test -run '^$$' -bench 'CountWindow' -benchtime 3000000x ./worker/internal/window/
	$(GO) test -run '^$$' -bench 'IntervalJoin|WindowJoin' -benchmem -benchtime 2000000x ./worker/internal/join/
	$(GO) test -run '^$$' -bench . ./udf-examples/conformance/
	$(GO) test -p 1 -run '^$$' -bench . -benchtime 1x $(E2E_PKG)

## bench-state: the checkpoint benchmarks with 1 GB of keyed state (minutes, and
## several GB of disk; not part of CI)
bench-state:
	WEIR_BENCH_STATE_GB=1 $(GO) test -run '^$$' -bench 'Checkpoint1GB' -benchtime 1x -timeout 60m ./worker/internal/state/

## proto: regenerate the gRPC code from internal/api/pb/weir.proto (needs protoc,
## protoc-gen-go and protoc-gen-go-grpc; the generated code is committed)
proto:
	cd internal/api/pb && protoc --go_out=. --go_opt=paths=source_relative \
		--go-grpc_out=. --go-grpc_opt=paths=source_relative weir.proto

## check: formatting, vet, and tidy modules
check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	@for m in . $(NESTED); do (cd $$m && cp go.mod /tmp/weir-go.mod.bak && $(GO) mod tidy && diff -q go.mod /tmp/weir-go.mod.bak >/dev/null) || (echo "go mod tidy changes $$m/go.mod"; exit 1); done
	@for m in $(NESTED); do (cd $$m && $(GO) vet ./...) || exit 1; done

clean:
	rm -rf bin build
