#!/usr/bin/env bash
# Builds the kube-apiserver harness if it is missing or out of date, then runs it in the foreground:
#   tools/cluster/run.sh --dir DIR [harness flags] [-- kube-apiserver flags]
#   tools/cluster/run.sh --build-only
# Go's build cache makes a build with nothing changed take seconds; the first one downloads the modules through the
# Go module proxy and compiles Kubernetes (see the README for how long that takes). The binary and the build log go
# to .cache/cluster/ at the repository root.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
src="$root/tools/cluster"
out="$root/.cache/cluster"
bin="$out/kube-apiserver-harness"
log="$out/build.log"

if ! command -v go >/dev/null 2>&1; then
  echo "cluster: Go toolchain not found (need go 1.26 or later on PATH)" >&2
  exit 127
fi
go_version="$(go env GOVERSION 2>/dev/null || true)"
if ! [[ "$go_version" =~ ^go1\.([0-9]+) ]] || ((BASH_REMATCH[1] < 26)); then
  echo "cluster: Go toolchain too old (found ${go_version:-an unknown version}, need go 1.26 or later on PATH)" >&2
  exit 127
fi

mkdir -p "$out"
if [ ! -x "$bin" ]; then
  echo "cluster: building kube-apiserver (a first build downloads and compiles Kubernetes: many minutes; log: $log)" >&2
fi
# kube-apiserver reports the version it was built from (/version, kubectl version) from these variables, which
# Kubernetes' own build sets the same way.
if ! (
  cd "$src"
  k8s="$(go list -m -f '{{.Version}}' k8s.io/kubernetes)"
  [[ "$k8s" =~ ^v([0-9]+)\.([0-9]+)\. ]]
  v=k8s.io/component-base/version
  go build -buildvcs=false -o "$bin" -ldflags "-s -w -X $v.gitVersion=$k8s -X $v.gitMajor=${BASH_REMATCH[1]} \
    -X $v.gitMinor=${BASH_REMATCH[2]} -X $v.gitTreeState=clean" .
) >"$log" 2>&1; then
  reason="$(grep -m1 -vE '^(go: downloading|#) ' "$log" || true)"
  echo "cluster: go build failed: ${reason:-no output} (full log: $log)" >&2
  exit 1
fi

if [ "${1:-}" = "--build-only" ]; then
  exit 0
fi
exec "$bin" "$@"
