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
# testdata/demo/packaging.yaml, manifest.json and SHA256SUMS, into dist/,
# signed with the committed demo key (testdata/demo/packaging-signed.yaml:
# a throwaway key, never to sign anything real), verified as a user would
# with the demo's public key (relpack verify-release); then the signed apt and
# dnf repository tree of that release in dist-repo/ (relpack repo, served
# from DEMO_URL), with its set-up instructions in dist-repo/REPOSITORIES.md.
DEMO_VERSION ?= 0.1.0
DEMO_REPO    ?= dist-repo
DEMO_URL     ?= http://127.0.0.1:8000
demo: build
	$(BIN) build --clean --sign -c testdata/demo/packaging-signed.yaml --version $(DEMO_VERSION) --out $(DIST)
	cd $(DIST) && sha256sum --strict -c SHA256SUMS
	$(BIN) verify-release $(DIST) --key testdata/demo/demo-signing-key.pub.asc
	rm -rf $(DEMO_REPO)
	$(BIN) repo $(DIST) --out $(DEMO_REPO) --url $(DEMO_URL) -c testdata/demo/packaging-signed.yaml
	$(BIN) docs --repo $(DEMO_REPO) -o $(DEMO_REPO)/REPOSITORIES.md
	@echo "demo: release in $(DIST)/; signed apt and dnf repository tree in $(DEMO_REPO)/ (serve it at $(DEMO_URL); set-up: $(DEMO_REPO)/REPOSITORIES.md)"

# Installs (apt-get, as root or through sudo) whatever scripts/test-deps.txt
# lists and this machine lacks; internal/testdeps holds the tests to the same
# list. `./scripts/install-test-deps.sh --check` only reports.
test-deps:
	./scripts/install-test-deps.sh

vet:
	@test -z "$$(gofmt -l cmd pkg internal templates)" || { gofmt -l cmd pkg internal templates; echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

test: test-deps vet
	$(GO) test -count=1 -timeout 25m ./...
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
	$(GO) test -run XXX -fuzz '^FuzzReadRPM$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 10s ./pkg/repo/rpmmd/
	$(GO) test -run XXX -fuzz '^FuzzReadControl$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 10s ./pkg/repo/apt/
	$(GO) test -run XXX -fuzz '^FuzzCaptureRead$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 10s ./pkg/capture/
	$(GO) test -run XXX -fuzz '^FuzzPackageCheck$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./pkg/releaseverify/
	$(GO) test -run XXX -fuzz '^FuzzLdCache$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 10s ./pkg/smoke/
	$(GO) test -run XXX -fuzz '^FuzzReadDepV0$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./pkg/components/

bench: build
	./bench/verify-vs-objdump.sh

clean:
	rm -rf bin $(DIST)
