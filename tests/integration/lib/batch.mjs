// Batch API test helpers: request lines, JSONL files and a gateway config with a batch section.
import path from 'node:path';

export const line = (id, extra = {}, url = '/v1/chat/completions', model = 'deepseek-chat') => JSON.stringify({
  custom_id: id, method: 'POST', url,
  body: { model, max_tokens: 8, messages: [{ role: 'user', content: `hello ${id}` }], ...extra },
});

export const jsonl = (n, prefix = 'r', model = 'deepseek-chat') =>
  Array.from({ length: n }, (_, i) => line(`${prefix}-${i}`, {}, '/v1/chat/completions', model)).join('\n') + '\n';

// `flakyBase`: a sim failing half its requests with 503 (flaky-chat, no gateway retries: the batch retries);
// down-chat goes to a closed port (every attempt fails).
export function batchConfig(simBase, dataDir, extra = {}, flakyBase = simBase) {
  return {
    listen: '127.0.0.1:0',
    workers: 1,
    log_level: 'warn',
    access_log: 'off',
    upstreams: {
      sim: { base_url: simBase, timeouts: { connect: '2s', first_token: '5s', idle: '5s', total: '20s' } },
      flaky: { base_url: flakyBase },
      down: { base_url: 'http://127.0.0.1:1', timeouts: { connect: '200ms' } },
    },
    models: {
      'deepseek-chat': { upstream: 'sim' },
      'flaky-chat': { upstream: 'flaky', model: 'deepseek-chat', retry: { max_attempts: 1 } },
      'down-chat': { upstream: 'down', model: 'deepseek-chat', retry: { max_attempts: 1 } },
    },
    keys: [{ name: 'alice', secret_env: 'ALICE_KEY' }, { name: 'bob', secret_env: 'BOB_KEY' }],
    ledger: { path: path.join(dataDir, 'ledger.db'), flush_interval: '100ms' },
    pricing: {
      'deepseek-chat': {
        input_cache_hit: 0.07, input_cache_miss: 0.27, output: 1.10,
        off_peak: ['16:30-00:30'], off_peak_multiplier: 0.5,
      },
    },
    batch: {
      data_dir: dataDir, max_file_bytes: '32KiB', min_completion_window: '2s', poll_interval: '100ms',
      lease: '2s', concurrency: 4, ...extra,
    },
  };
}


// Retrieves the batch (through `client`, an openai SDK client) until its status is `status`, every 50 ms for
// at most timeoutMs; returns the last batch object (the caller asserts on it).
export async function waitForStatus(client, id, status, timeoutMs = 10_000) {
  const until = Date.now() + timeoutMs;
  let b = await client.batches.retrieve(id);
  while (b.status !== status && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    b = await client.batches.retrieve(id);
  }
  return b;
}
