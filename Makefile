# The two commands of README.md: `make demo` runs the main job on the demo
# inputs; `make test` installs what the tests need and runs them all.
GO      ?= go
BIN     := bin/relpack
DIST    := dist

.PHONY: all build demo test test-deps vet fixtures bench clean

all: build

build:
	$(GO) build -trimpath -o $(BIN) ./cmd/relpack

demo: build
	$(BIN) inspect testdata/fixtures/demo/x86_64-unknown-linux-gnu/openshell-gateway
	$(BIN) verify --floor 2.28 testdata/fixtures/demo/*/openshell-gateway testdata/fixtures/x86_64/libz3.so.4
	-$(BIN) verify --floor 2.28 testdata/fixtures/x86_64/math-2.29 testdata/fixtures/x86_64/gettid-2.30

test-deps:
	./scripts/install-test-deps.sh

vet:
	@test -z "$$(gofmt -l cmd pkg)" || { gofmt -l cmd pkg; echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

test: test-deps vet
	$(GO) test -count=1 ./...

# Rebuild the committed fixture binaries (needs the cross toolchains and
# network access to the Debian mirror; not part of `make test`).
fixtures:
	./testdata/build-fixtures.sh

bench: build
	./bench/verify-vs-objdump.sh

clean:
	rm -rf bin $(DIST)
