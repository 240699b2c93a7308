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
# The web console's browser tests drive Debian's headless Chromium; they
# are skipped without it, except in CI (CI=true), where they must run.
if [ ! -x /usr/bin/chromium ]; then
	if [ "$(id -u)" = 0 ]; then
		apt-get update -qq && apt-get install -y -qq chromium
	elif command -v sudo >/dev/null 2>&1; then
		sudo apt-get update -qq && sudo apt-get install -y -qq chromium
	else
		echo "test: /usr/bin/chromium is missing and cannot be installed (not root); browser tests will be skipped outside CI" >&2
	fi
fi
go vet ./...
go test -race -count=1 -timeout 15m ./...
# examples/custombot is a module of its own (an openimbot built by outside
# code), so ./... above does not reach it. -mod=mod lets its go.mod follow
# the root module's requirements.
(cd examples/custombot && GOFLAGS=-mod=mod go vet ./... && GOFLAGS=-mod=mod go test -race -count=1 ./...)
