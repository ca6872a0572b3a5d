#!/usr/bin/env bash
# Imports run one way (docs/architecture.md): a module may include its own headers and those of modules on a
# lower level, never a module on its own level or above. Fails listing every upward include.
# Usage: scripts/check-includes.sh [src dir]
set -euo pipefail
src=${1:-"$(dirname "$0")/../src"}

# The module graph, lowest first. A new module gets a level here (the check fails until it has one).
declare -A level=(
  [sluice]=0 [common]=0
  [http]=1 [openai]=1 [config]=1 [telemetry]=1
  [state]=2
  [routing]=3 [cache]=3 [ledger]=3 [store]=3
  [admission]=4
  [upstream]=5 [batch]=5
  [gateway]=6 [sim]=6 [bench]=6 [plan]=6
  [cli]=7
)

bad=0
while IFS= read -r file; do
  rel=${file#"$src"/}
  mod=${rel%%/*}
  [ "$rel" = "$mod" ] && continue  # main.cc: the binary's entry point sees everything
  if [ -z "${level[$mod]+x}" ]; then
    echo "$rel: module '$mod' has no level in scripts/check-includes.sh" >&2
    bad=1
    continue
  fi
  while IFS= read -r line; do
    inc=${line#*\"}
    inc=${inc%%\"*}
    dep=${inc%%/*}
    [ "$dep" = "$mod" ] && continue
    if [ -z "${level[$dep]+x}" ]; then
      echo "$rel: includes \"$inc\" from unknown module '$dep'" >&2
      bad=1
    elif [ "${level[$dep]}" -ge "${level[$mod]}" ]; then
      echo "$rel: includes \"$inc\": $mod (level ${level[$mod]}) may not include $dep (level ${level[$dep]})" >&2
      bad=1
    fi
  done < <(grep -E '^#include "[a-z_]+/' "$file" || true)
done < <(find "$src" -name '*.h' -o -name '*.cc' | sort)

if [ "$bad" -ne 0 ]; then
  echo "include-direction check failed (docs/architecture.md, 'Module graph')" >&2
  exit 1
fi
echo "include directions ok"
