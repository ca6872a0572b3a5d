#!/usr/bin/env bash
# Installs the Debian 12 packages sluice needs to build and test. Idempotent: does nothing when all are present.
# Usage: scripts/install-deps.sh [build|test|bench|fuzz]   (each includes build; bench includes test)
set -euo pipefail
what=${1:-build}
build_pkgs=(build-essential cmake ninja-build pkg-config ccache
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libssl-dev ca-certificates
  libsimdjson-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev
  libgtest-dev libgmock-dev libsqlite3-dev libgoogle-perftools-dev libhiredis-dev libpq-dev)
test_pkgs=(curl nodejs npm prometheus chromium redis-server postgresql-15 haproxy)
bench_pkgs=(nginx-light wrk libbenchmark-dev)
fuzz_pkgs=(clang-14 libclang-rt-14-dev)
pkgs=("${build_pkgs[@]}")
case "$what" in
  build) ;;
  test) pkgs+=("${test_pkgs[@]}") ;;
  bench) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  fuzz) pkgs+=("${fuzz_pkgs[@]}") ;;
  *) echo "usage: $0 [build|test|bench|fuzz]" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# node/npm may come from outside Debian (e.g. nvm); accept any working binary.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -ra missing <<<"${missing[*]}"
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
