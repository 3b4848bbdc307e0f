# The two commands of README.md: `make demo` runs the main job on the demo
# inputs; `make test` installs what the tests need and runs them all.
GO      ?= go
BIN     := bin/relpack
DIST    := dist

.PHONY: all build demo test test-deps vet fixtures fuzz bench clean

all: build

build:
	$(GO) build -trimpath -o $(BIN) ./cmd/relpack

# The release job on the demo inputs: every tarball, deb and rpm of
# testdata/demo/packaging.yaml, manifest.json and SHA256SUMS, into dist/.
DEMO_VERSION ?= 0.1.0
demo: build
	$(BIN) build --clean -c testdata/demo/packaging.yaml --version $(DEMO_VERSION) --out $(DIST)
	cd $(DIST) && sha256sum --strict -c SHA256SUMS

# Installs (apt-get, as root or through sudo) whatever scripts/test-deps.txt
# lists and this machine lacks; internal/testdeps holds the tests to the same
# list. `./scripts/install-test-deps.sh --check` only reports.
test-deps:
	./scripts/install-test-deps.sh

vet:
	@test -z "$$(gofmt -l cmd pkg internal templates)" || { gofmt -l cmd pkg internal templates; echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

test: test-deps vet
	$(GO) test -count=1 ./...
	./scripts/check-stray-files.sh --since-pid $$PPID

# Rebuild the committed fixture binaries (needs the cross toolchains and
# network access to the Debian mirror; not part of `make test`).
fixtures:
	./testdata/build-fixtures.sh

# Fuzz each parser for a bounded time (not part of `make test`; see
# docs/fuzzing.md). FUZZTIME=10m make fuzz for a longer run.
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run XXX -fuzz '^FuzzInspect$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 10s ./pkg/abi/
	$(GO) test -run XXX -fuzz '^FuzzConfigParse$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 10s ./pkg/config/
	$(GO) test -run XXX -fuzz '^FuzzVersionParse$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 10s ./pkg/version/

bench: build
	./bench/verify-vs-objdump.sh

clean:
	rm -rf bin $(DIST)
