#!/usr/bin/env node
// Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/seed-*) from the messages the
// tests use: wire requests and responses of the HTTP tests, SSE streams of the fake upstream and the
// simulator, request bodies and YAML configs of the unit tests, x-sim-fault headers of the simulator tests,
// and the example configs. Run by `scripts/fuzz.sh seeds`; inputs found by fuzzing are merged next to these
// (`scripts/fuzz.sh merge`) under libFuzzer's own names.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const corpus = path.join(root, 'tests/fuzz/corpus');
const read = (p) => fs.readFileSync(path.join(root, p), 'utf8');
const files = (dir, re) => fs.readdirSync(path.join(root, dir)).filter((f) => re.test(f)).map((f) => path.join(dir, f));

// C++ raw strings R"(...)" / R"tag(...)tag" in a source file.
function rawStrings(text) {
  const out = [];
  const re = /R"([a-z]*)\(([\s\S]*?)\)\1"/g;
  for (let m; (m = re.exec(text));) out.push(m[2]);
  return out;
}
// Quoted JS string values of `x-sim-fault` headers and of parse_fault_header("...") calls.
function faultHeaders(text) {
  const out = [];
  for (const m of text.matchAll(/'x-sim-fault':\s*'([^']*)'/g)) out.push(m[1]);
  for (const m of text.matchAll(/parse_fault_header\("([^"]*)"\)/g)) out.push(m[1]);
  return out;
}

const wrkBody = '{"model":"deepseek-chat","messages":[{"role":"system","content":"You are a concise assistant for a benchmark."},'
  + '{"role":"user","content":"Explain in two sentences what a reverse proxy does."}],"temperature":0.7,"top_p":1,"max_tokens":256,"stream":false}';
const sdkBody = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hi"}],"stream":true}';
const crlf = (lines) => lines.join('\r\n');
const post = (extra, body) => crlf(['POST /v1/chat/completions HTTP/1.1', 'Host: 127.0.0.1:8080', 'Content-Type: application/json',
  'Authorization: Bearer sk-test-0123456789abcdef', ...extra, '', body]);

// Requests (tests/unit/http/h1_test.cc, h1_rules_test.cc, tests/integration/gateway_basic, protocol_edges).
const requests = [
  crlf(['GET /v1/models HTTP/1.1', 'Host: localhost:8080', 'User-Agent: curl/8.5.0', 'Accept: */*', '', '']),
  crlf(['GET /index.html HTTP/1.1', 'Host: 127.0.0.1:8080', '', '']),
  post([`Content-Length: ${wrkBody.length}`], wrkBody),
  crlf(['POST /v1/chat/completions HTTP/1.1', 'Host: api.openai.com', 'Accept-Encoding: gzip, deflate', 'Connection: keep-alive',
    'Accept: application/json', 'Content-Type: application/json', 'User-Agent: OpenAI/Python 1.51.0', 'X-Stainless-Lang: python',
    'Authorization: Bearer sk-test-0123456789abcdef', 'x-stainless-retry-count: 0', `Content-Length: ${sdkBody.length}`, '', sdkBody]),
  post(['Transfer-Encoding: chunked'], `${sdkBody.length.toString(16)}\r\n${sdkBody}\r\n0\r\n\r\n`),
  post(['Transfer-Encoding: chunked'], '5;ext=1\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n'),
  post(['Expect: 100-continue', `Content-Length: ${sdkBody.length}`], sdkBody),
  crlf(['GET /healthz HTTP/1.0', 'Connection: keep-alive', '', '']),
  crlf(['GET /healthz HTTP/1.1', 'Host: x', '', 'GET /readyz HTTP/1.1', 'Host: x', 'Connection: close', '', '']),
  'GET /healthz HTTP/1.1\nHost: gw\nConnection: close\n\n',
  'GET /healthz HTTP/1.1\r\nHost: gw\n\r\n',
  '\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n',
  post([`Content-Length: ${sdkBody.length}`, 'Transfer-Encoding: chunked'], `0\r\n\r\n${sdkBody}`),
  post(['Transfer-Encoding: chunked, identity', `Content-Length: ${sdkBody.length}`], sdkBody),
  post([`Content-Length: ${sdkBody.length}`, `Content-Length: ${sdkBody.length}`], sdkBody),
  post([`Content-Length : ${sdkBody.length}`], sdkBody),
  post(['X-Folded: a', ' b', `Content-Length: ${sdkBody.length}`], sdkBody),
  post(['Host: other', `Content-Length: ${sdkBody.length}`], sdkBody),
  post(['Authorization: Bearer other', 'Content-Length: 2'], '{}'),
  post(['X-Priority: high', 'X-Priority: low', 'Content-Length: 2'], '{}'),
  crlf(['GET /admin/upstreams HTTP/1.1', 'Host: [::1]:8080', 'x-sluice-admin-key: admin-key', '', '']),
  crlf(['CONNECT example.com:443 HTTP/1.1', 'Host: example.com:443', '', '']),
  crlf(['OPTIONS * HTTP/1.1', 'Host: h', 'Content-Length: 5, 5', '', 'hello']),
];

// Upstream responses (the fake upstream's shapes, nginx, DeepSeek's waiting behaviour).
const completion = '{"id":"chatcmpl-test","object":"chat.completion","created":1700000000,"model":"deepseek-chat",'
  + '"choices":[{"index":0,"message":{"role":"assistant","content":"Hello from upstream"},"finish_reason":"stop"}],'
  + '"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8,"prompt_cache_hit_tokens":0,"prompt_cache_miss_tokens":5}}';
const chunk = (content, extra = '') => `{"id":"chatcmpl-test","object":"chat.completion.chunk","created":1700000000,"model":"deepseek-chat","choices":[{"index":0,"delta":{"content":"${content}"},"finish_reason":null}]${extra}}`;
const sse = [': keep-alive', '', `data: ${chunk('Hel')}`, '', `data: ${chunk('lo')}`, '',
  'data: {"id":"chatcmpl-test","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}', '',
  'data: [DONE]', '', ''].join('\n');
const chunked = (body, size = 7) => {
  let out = '';
  for (let i = 0; i < body.length; i += size) out += `${Math.min(size, body.length - i).toString(16)}\r\n${body.slice(i, i + size)}\r\n`;
  return `${out}0\r\n\r\n`;
};
const responses = [
  crlf(['HTTP/1.1 200 OK', 'Content-Type: application/json', 'Date: Thu, 01 Jan 2025 00:00:00 GMT', 'Connection: keep-alive',
    'Keep-Alive: timeout=5', `Content-Length: ${completion.length}`, '', completion]),
  crlf(['HTTP/1.1 200 OK', 'Content-Type: text/event-stream', 'Transfer-Encoding: chunked', '', chunked(sse)]),
  crlf(['HTTP/1.1 100 Continue', '', 'HTTP/1.1 200 OK', 'Content-Length: 2', '', '{}']),
  crlf(['HTTP/1.1 204 No Content', '', '']),
  crlf(['HTTP/1.0 200 OK', 'Content-Type: application/json', '', completion]),
  crlf(['HTTP/1.1 503 Service Unavailable', 'Retry-After: 2', 'Content-Type: application/json', 'Content-Length: 74', '',
    '{"error":{"message":"upstream says 503","type":"server_error","param":null,"code":null}}']),
  crlf(['HTTP/1.1 429 Too Many Requests', 'x-ratelimit-remaining-requests: 0', 'Transfer-Encoding: gzip, chunked', '', '0', '', '']),
  `HTTP/1.1 200 OK\nContent-Type: application/json\nContent-Length: ${completion.length}\n\n${completion}`,
  crlf(['HTTP/1.1 200 OK', 'Content-Length: 3', 'Content-Length: 3', '', 'abc']),
];

// Chunked bodies: the first byte picks split points (fuzz_h1_chunked).
const chunkedBodies = ['5\r\nhello\r\n0\r\n\r\n', '5;name=value;x="q"\r\nhello\r\n0\r\n\r\n', '1\r\na\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\n',
  'A \r\n0123456789\r\n0\r\n\r\n', 'ffffffffffffffff\r\n', chunked(sse, 16), chunked(completion, 64)].map((b, i) => String.fromCharCode(i * 37 % 256) + b);

// SSE streams (first byte: split seed).
const sseStreams = [sse, sse.replaceAll('\n', '\r\n'), sse.replaceAll('\n', '\r'),
  'event: error\ndata: {"error":{"message":"upstream broke","type":"server_error"}}\n\ndata: [DONE]\n\n',
  'data: line one\ndata: line two\nid: 7\nretry: 100\n: comment\n\n', ': keep-alive\n\n: keep-alive\n\n'].map((s, i) => String.fromCharCode(i * 53 % 256) + s);

// Stitch: mode byte, max_tokens byte, then the stream of a chat completion that breaks and continues.
const role = '{"id":"a","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}';
const cut = '{"id":"a","choices":[{"index":0,"delta":{},"finish_reason":"insufficient_system_resource"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}';
const stitchStreams = [
  `\x00\x40data: ${role}\n\ndata: ${chunk('Hel')}\n\ndata: ${cut}\n\ndata: ${role.replace('"a"', '"b"')}\n\ndata: ${chunk('lo')}\n\ndata: [DONE]\n\n`,
  `\x01\x05data: ${role}\n\ndata: ${chunk('x')}\n\ndata: {"error":{"message":"boom"}}\n\ndata: ${chunk('y', ',"usage":{"prompt_tokens":1,"completion_tokens":1}')}\n\n`,
  `\x02\x00data: {"choices":[{"delta":{"reasoning_content":"think","tool_calls":[]}}]}\n\ndata: not json\n\n`,
];

// Request bodies: the first byte selects the API (0 chat, 1 completions, 2 embeddings; bit 2 pads).
const unitJson = [...files('tests/unit/openai', /\.cc$/), 'tests/unit/cache/key_test.cc', 'tests/unit/upstream/stitch_test.cc']
  .flatMap((f) => rawStrings(read(f))).filter((s) => s.trimStart().startsWith('{'));
const bodies = [
  ...[wrkBody, sdkBody, ...unitJson].map((b) => `\x04${b}`),
  '\x05{"model":"deepseek-chat","prompt":"once upon","max_tokens":16,"suffix":"end","logprobs":2}',
  '\x01{"model":"m","prompt":[[1,2],[3]],"echo":true}',
  '\x06{"model":"deepseek-chat","input":["hello","world"],"encoding_format":"float","dimensions":8}',
  '\x02{"model":"m","input":[1,2,3]}',
  '\x04{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"data:,"}}]},'
    + '{"role":"assistant","content":null,"tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},'
    + '{"role":"tool","tool_call_id":"c","content":"1"}],"tools":[{"type":"function","function":{"name":"f","parameters":{}}}],'
    + '"tool_choice":{"type":"function","function":{"name":"f"}},"response_format":{"type":"json_schema","json_schema":{"name":"s"}},'
    + '"stream":true,"stream_options":{"include_usage":false},"logit_bias":{"1":-100},"stop":["a","b"],"seed":1}',
  '\x04{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":1e400,"max_tokens":18446744073709551616}',
];

// Answers whose usage is read.
const usages = [completion, chunk('x', ',"usage":{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10,"prompt_cache_hit_tokens":8,'
  + '"completion_tokens_details":{"reasoning_tokens":3}}'), '{"choices":[],"usage":{"prompt_tokens":1}}', '{"usage":null}',
  '{"error":{"message":"x"}}', ' \n{"usage":{"prompt_tokens":-5,"prompt_cache_hit_tokens":9223372036854775807}}'];

// Configs: the examples, the embedded default, the YAML of the config unit tests.
const configs = [...files('examples', /\.ya?ml$/).map(read),
  rawStrings(read('src/config/default_config.cc'))[0],
  ...files('tests/unit/config', /\.cc$/).flatMap((f) => rawStrings(read(f))).filter((s) => /^\s*[a-z_]+:/m.test(s))];

const faults = [...new Set([...files('tests/integration', /\.mjs$/), 'tests/unit/sim/faults_test.cc'].flatMap((f) => faultHeaders(read(f)))
  .concat(['status=503,retry-after=2s', 'keepalive=5,keepalive-interval=100ms,give-up', 'ttft=200ms,itl=10ms,tokens=20',
    'reset-before-headers', 'stall-after=1, malformed-after=2 ,truncate-after=4']))];

const targets = {
  h1_request: requests, h1_beast_diff: requests, h1_response: responses, h1_chunked: chunkedBodies, sse: sseStreams,
  stitch: stitchStreams, request_view: bodies, usage: usages, config: configs, sim_fault: faults,
};
for (const [name, seeds] of Object.entries(targets)) {
  const dir = path.join(corpus, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(dir)) if (f.startsWith('seed-')) fs.rmSync(path.join(dir, f));
  for (const s of seeds) {
    const bytes = Buffer.from(s, 'utf8');
    fs.writeFileSync(path.join(dir, `seed-${crypto.createHash('sha1').update(bytes).digest('hex').slice(0, 16)}`), bytes);
  }
  console.log(`${name}: ${seeds.length} seeds`);
}
