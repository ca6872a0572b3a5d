#!/usr/bin/env bash
# Prints the Debian packages that provide the shared libraries a binary links (one per line, sorted), so the
# runtime image installs exactly those. Run in the build stage of the Dockerfile and by the tests.
# Usage: deploy/docker/runtime-packages.sh build/sluice
set -euo pipefail
bin=${1:?usage: $0 BINARY}
mapfile -t libs < <(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}')
[ ${#libs[@]} -gt 0 ] || { echo "$0: no shared libraries found in $bin" >&2; exit 1; }
# Debian 12 is merged-/usr: dpkg knows a library by the path its package installed, which may be the /usr one
# or the one behind a symlink. One dpkg query for every candidate path (each query reads the whole database).
candidates=()
for lib in "${libs[@]}"; do candidates+=("$lib" "$(readlink -f "$lib")" "/usr$lib"); done
owners=$(dpkg -S "${candidates[@]}" 2>/dev/null || true)
for lib in "${libs[@]}"; do
  pkg=""
  for path in "$lib" "$(readlink -f "$lib")" "/usr$lib"; do
    pkg=$(awk -v p="$path" '{i = index($0, ": "); if (substr($0, i + 2) == p) {print substr($0, 1, i - 1); exit}}' <<<"$owners")
    [ -n "$pkg" ] && break
  done
  [ -n "$pkg" ] || { echo "$0: no Debian package owns $lib" >&2; exit 1; }
  echo "${pkg%%:*}"
done | sort -u
