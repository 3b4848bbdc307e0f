// A tiny Go program for pkg/components' Go fixture: its build info lists two
// real modules from relpack's own module cache and one module replaced by a
// directory (testdata/build-fixtures.sh builds it with -trimpath
// -buildvcs=false, CGO_ENABLED=0, GOFLAGS=-mod=mod and GOPROXY=off).
module relpack.test/gocomponents

go 1.26

require (
	github.com/Masterminds/semver/v3 v3.5.0
	github.com/ulikunitz/xz v0.5.15
	relpack.test/greet v0.0.0
)

replace relpack.test/greet => ./greet
