#!/usr/bin/env bash
# Prints the Debian packages that provide the shared libraries a binary links (one per line, sorted), so the
# runtime image installs exactly those. Run in the build stage of the Dockerfile and by the tests.
# Usage: deploy/docker/runtime-packages.sh build/sluice
set -euo pipefail
bin=${1:?usage: $0 BINARY}
libs=$(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}')
[ -n "$libs" ] || { echo "$0: no shared libraries found in $bin" >&2; exit 1; }
for lib in $libs; do
  # Debian 12 is merged-/usr: dpkg knows a library under the path its package installed it to.
  dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null ||
    dpkg -S "/usr$lib" 2>/dev/null || { echo "$0: no Debian package owns $lib" >&2; exit 1; }
done | cut -d: -f1 | sort -u
