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
# Install what a fresh machine lacks: a C toolchain for the race detector,
# and Debian's headless Chromium for the web console's browser tests (they
# are skipped without it, except in CI (CI=true), where they must run).
missing=()
command -v gcc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
	sudo=""
	if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then
		sudo=sudo
	fi
	if [ "$(id -u)" = 0 ] || [ -n "$sudo" ]; then
		echo "test: installing ${missing[*]}" >&2
		$sudo apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
	else
		echo "test: missing ${missing[*]} and cannot install them (not root)" >&2
	fi
fi
go vet ./...
go test -race -count=1 -timeout 15m ./...
# examples/custombot is a module of its own (an openimbot built by outside
# code), so ./... above does not reach it. -mod=mod lets its go.mod follow
# the root module's requirements.
(cd examples/custombot && GOFLAGS=-mod=mod go vet ./... && GOFLAGS=-mod=mod go test -race -count=1 ./...)
