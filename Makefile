# The two commands of README.md: `make demo` runs the main job on the demo
# inputs; `make test` installs what the tests need and runs them all.
GO      ?= go
BIN     := bin/relpack
DIST    := dist

.PHONY: all build demo release test test-deps vet fixtures fuzz bench clean

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

# relpack released by itself (docs/releasing.md): static binaries for
# linux/amd64 and linux/arm64 (CGO off, -trimpath, version stamped, a GNU
# build-id for the debug split) built reproducibly into RELEASE_BIN, then
# the host's build of them runs `relpack build` over release/packaging.yaml
# into RELEASE_OUT and `relpack verify-release` checks it. RELEASE_KEY=FILE
# signs with that armoured key (passphrase: RELPACK_SIGNING_PASSPHRASE) and
# verify-release checks it with RELEASE_PUBKEY; unsigned, SHA256SUMS is
# checked (verify-release refuses an unsigned release).
VERSION        ?=
RELEASE_OUT    ?= dist-release
RELEASE_BIN    ?= bin/release
RELEASE_KEY    ?=
RELEASE_PUBKEY ?=
RELEASE_EPOCH  := $(shell git log -1 --format=%ct 2>/dev/null)
RELEASE_COMMIT := $(shell git rev-parse HEAD 2>/dev/null)
HOST_GOARCH    := $(shell $(GO) env GOARCH)
release:
	@test -n "$(VERSION)" || { echo "make release: give VERSION=X (e.g. make release VERSION=1.2.3)"; exit 2; }
	@test -n "$(RELEASE_EPOCH)" || { echo "make release: no git commit to take SOURCE_DATE_EPOCH from"; exit 2; }
	@test -z "$(RELEASE_KEY)" || test -n "$(RELEASE_PUBKEY)" || { echo "make release: RELEASE_KEY needs RELEASE_PUBKEY (its public key) for verify-release"; exit 2; }
	@test -z "$(RELEASE_KEY)" || test -f "$(RELEASE_KEY)" || { echo "make release: RELEASE_KEY $(RELEASE_KEY) is not a file; give the armoured private key's path"; exit 2; }
	for arch in amd64 arm64; do \
	  CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build -trimpath -buildvcs=false \
	    -ldflags "-X main.version=$(VERSION) -X main.commit=$(RELEASE_COMMIT) -B gobuildid" \
	    -o $(RELEASE_BIN)/$$arch/relpack ./cmd/relpack || exit 1; \
	done
	SOURCE_DATE_EPOCH=$(RELEASE_EPOCH) $(if $(RELEASE_KEY),RELPACK_SIGNING_KEY="$$(cat '$(RELEASE_KEY)')") \
	  $(RELEASE_BIN)/$(HOST_GOARCH)/relpack build --clean $(if $(RELEASE_KEY),--sign) -c release/packaging.yaml \
	  --version $(VERSION) --out $(RELEASE_OUT) \
	  --bin x86_64-unknown-linux-musl=$(RELEASE_BIN)/amd64/relpack \
	  --bin aarch64-unknown-linux-musl=$(RELEASE_BIN)/arm64/relpack
ifneq ($(RELEASE_KEY),)
	$(RELEASE_BIN)/$(HOST_GOARCH)/relpack verify-release $(RELEASE_OUT) --key $(RELEASE_PUBKEY)
else
	@# verify-release refuses an unsigned release (nothing vouches for it):
	@# without a key, the sums are all that can be checked.
	cd $(RELEASE_OUT) && sha256sum --strict -c --quiet SHA256SUMS
	@echo "make release: $(RELEASE_OUT) is unsigned; give RELEASE_KEY and RELEASE_PUBKEY to sign it and check it with relpack verify-release"
endif

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
	rm -rf bin $(DIST) dist-release
