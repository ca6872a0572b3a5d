// The gateway configuration of every cell: the one from issue 24 (one worker, round robin, prefix failover,
// upstream timeouts connect 1 s / idle 1 s), with max_attempts and max_resumes from the runner (3 each in the
// issue; the runner's defaults and why are in run.mjs). Hedging is on only for the slow-first-token class,
// which is what it is for. Keys come from the environment, one per host.
export const KEY_ENV = (i) => `CONFORMANCE_KEY_${i}`;
export const KEY = (i) => `conformance-key-${i}`;

export function gatewayYaml({ ports, accessLog, hedge, maxAttempts = 3, maxResumes = 3 }) {
  const ups = ports.map((p, i) =>
    `  h${i}:\n    base_url: "http://127.0.0.1:${p}"\n    api_key_env: ${KEY_ENV(i)}\n` +
    '    timeouts: {connect: 1s, first_token: 10s, idle: 1s, total: 30s}\n').join('');
  return `# written by bench/conformance/runner
listen: "127.0.0.1:0"
workers: 1
log_level: warn
access_log: "${accessLog}"
server: {drain_timeout: 2s}
cache: {enabled: false}
ledger: {enabled: false}
upstreams:
${ups}models:
  deepseek-chat:
    balancer: round_robin
    deployments: [${ports.map((_, i) => `{upstream: h${i}}`).join(', ')}]
    retry: {max_attempts: ${maxAttempts}}
    failover: {mode: prefix, max_resumes: ${maxResumes}}
    request_timeout: 20s
${hedge ? `    hedge: {delay: ${hedge}}\n` : ''}`;
}

export function gatewayEnv(n) {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [KEY_ENV(i), KEY(i)]));
}
