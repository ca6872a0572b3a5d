#!/usr/bin/env bash
# `make run`: with DEEPSEEK_API_KEY set, the gateway proxies to api.deepseek.com (the embedded default config).
# Without it (or without internet), a local `sluice sim` stands in for DeepSeek so there is something to talk to.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/sluice
port=${SLUICE_PORT:-8080}
if [ -n "${DEEPSEEK_API_KEY:-}" ]; then
  echo "DEEPSEEK_API_KEY is set: proxying to api.deepseek.com (embedded default config)"
  echo "try: curl -s http://127.0.0.1:$port/v1/chat/completions -H 'content-type: application/json' \\"
  echo "       -d '{\"model\":\"deepseek-chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}'"
  exec "$bin" serve --listen "127.0.0.1:$port"
fi
sim_port=9100  # must match examples/local-sim.yaml
"$bin" sim --port "$sim_port" --scenario healthy &
sim_pid=$!
trap 'kill $sim_pid 2>/dev/null || true' EXIT INT TERM
sleep 0.3
echo "DEEPSEEK_API_KEY is not set: started 'sluice sim' on 127.0.0.1:$sim_port as a local DeepSeek stand-in"
echo "try: curl -s http://127.0.0.1:$port/v1/chat/completions -H 'content-type: application/json' \\"
echo "       -d '{\"model\":\"deepseek-chat\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}'"
"$bin" serve -c examples/local-sim.yaml --listen "127.0.0.1:$port"
