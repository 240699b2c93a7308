#!/usr/bin/env bash
# The whole test suite: formatting, vet, and every test with the race detector.
set -euo pipefail
cd "$(dirname "$0")/.."

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go') | grep -v '^internal/pb/' || true)
if [ -n "$unformatted" ]; then
	echo "gofmt: these files are not formatted:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...
go test -race -count=1 -timeout 15m ./...
# examples/custombot is a module of its own (an openimbot built by outside
# code), so ./... above does not reach it. -mod=mod lets its go.mod follow
# the root module's requirements.
(cd examples/custombot && GOFLAGS=-mod=mod go vet ./... && GOFLAGS=-mod=mod go test -race -count=1 ./...)
