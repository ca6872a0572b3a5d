// deploy/kubernetes, deploy/prometheus-adapter and the Dockerfile, checked offline (docs/kubernetes.md):
//  - every overlay renders with kustomize (`kubectl kustomize`) and every object, rendered or in a file,
//    validates against the Kubernetes and CRD schemas from npm (lib/k8s_schema.mjs), strictly;
//  - what must agree agrees: probes, ports and listeners, the termination grace period and the drain,
//    selectors, the autoscaling thresholds, the config each overlay ships passes `sluice check`;
//  - the autoscaling queries parse and compute what they should (promtool), and match their sources;
//  - the Dockerfile builds with the project's own scripts, and its runtime packages exist in Debian.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { validateObject } from './lib/k8s_schema.mjs';
import { SLUICE_BIN, tempDir } from './lib/gateway.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const k8s = path.join(root, 'deploy/kubernetes');
const OVERLAYS = ['base', 'overlays/dev', 'overlays/production'];
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, ...opts });
  assert.ifError(r.error);
  return { status: r.status, out: `${r.stdout}${r.stderr}`, stdout: r.stdout };
}

function docs(text) {
  return YAML.parseAllDocuments(text).map((d) => {
    assert.equal(d.errors.length, 0, String(d.errors));
    return d.toJS();
  }).filter((o) => o !== null);
}

// kustomize output of one directory under deploy/kubernetes.
const renderCache = new Map();
function render(dir) {
  if (!renderCache.has(dir)) {
    const r = run('kubectl', ['kustomize', path.join(k8s, dir)]);
    assert.equal(r.status, 0, `kubectl kustomize ${dir}:\n${r.out}`);
    renderCache.set(dir, docs(r.stdout));
  }
  return renderCache.get(dir);
}
const find = (objs, kind, name) => objs.find((o) => o.kind === kind && (!name || o.metadata.name === name));

// Every manifest file (kustomization files and sluice configs are not Kubernetes objects).
function manifestFiles() {
  const out = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(e.name) && e.name !== 'kustomization.yaml' && e.name !== 'sluice.yaml') out.push(p);
    }
  };
  walk(k8s);
  return out;
}

// Environment variables a sluice config reads (provider, virtual, admin and Redis keys).
function configEnvNames(cfg) {
  const names = new Set();
  for (const u of Object.values(cfg.upstreams ?? {})) [u.api_key_env].flat().filter(Boolean).forEach((n) => names.add(n));
  for (const k of cfg.keys ?? []) if (k.secret_env) names.add(k.secret_env);
  if (cfg.admin?.key_env) names.add(cfg.admin.key_env);
  if (cfg.ledger?.admin_key_env) names.add(cfg.ledger.admin_key_env);
  if (cfg.state?.redis?.password_env) names.add(cfg.state.redis.password_env);
  return names;
}

// `sluice check` of a config text with the given environment. A binary built before the Redis backend
// (issue #25) does not know `state:` yet: then the rest of the config is checked and the test says so.
function sluiceCheck(t, text, env) {
  const dir = tempDir();
  const file = path.join(dir, 'sluice.yaml');
  fs.writeFileSync(file, text);
  let r = run(SLUICE_BIN, ['check', '-c', file], { env: { PATH: process.env.PATH, ...env } });
  if (r.status !== 0 && /state: unknown key "state"/.test(r.out)) {
    const cfg = YAML.parse(text);
    delete cfg.state;
    fs.writeFileSync(file, YAML.stringify(cfg));
    t.diagnostic('this sluice binary has no state backend yet (issue #25): checked without `state:`');
    r = run(SLUICE_BIN, ['check', '-c', file], { env: { PATH: process.env.PATH, ...env } });
  }
  return r;
}

function seconds(duration) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(String(duration));
  assert.ok(m, `duration ${duration}`);
  const n = Number(m[1]);
  return { ms: n / 1000, s: n, m: n * 60, h: n * 3600, undefined: n / 1000 }[m[2]];
}

describe('kubernetes manifests', () => {
  test('every manifest file validates against the Kubernetes and CRD schemas (strict fields)', async () => {
    const files = manifestFiles();
    assert.ok(files.length >= 12, `manifest files: ${files}`);
    const problems = [];
    for (const f of files) {
      for (const obj of docs(fs.readFileSync(f, 'utf8'))) {
        problems.push(...(await validateObject(obj)).map((p) => `${path.relative(root, f)}: ${p}`));
      }
    }
    assert.deepEqual(problems, []);
  });

  test('the schema check catches a misspelt field, a wrong type and a missing required field', async () => {
    const dep = YAML.parse(fs.readFileSync(path.join(k8s, 'base/deployment.yaml'), 'utf8'));
    assert.deepEqual(await validateObject(dep), []);
    const c = dep.spec.template.spec.containers[0];
    c.readinessProbes = c.readinessProbe;
    c.ports[0].containerPort = 'eighty';
    delete dep.spec.selector;
    const problems = (await validateObject(dep)).join('\n');
    assert.match(problems, /unknown field "readinessProbes"/);
    assert.match(problems, /containerPort must be integer/);
    assert.match(problems, /must have required property '?selector/);
  });

  for (const dir of OVERLAYS) {
    test(`${dir}: renders with kustomize, and every object validates`, { skip: !hasKubectl && 'kubectl (kustomize) not installed' }, async () => {
      const objs = render(dir);
      const problems = [];
      for (const o of objs) problems.push(...await validateObject(o));
      assert.deepEqual(problems, []);
      const ns = dir === 'base' ? undefined : find(objs, 'Namespace')?.metadata.name;
      for (const o of objs.filter((x) => x.kind !== 'Namespace')) {
        assert.equal(o.metadata.namespace, ns, `${o.kind}/${o.metadata.name} namespace`);
      }
    });

    test(`${dir}: the pod spec keeps its promises (probes, security, drain, listeners, selectors)`, { skip: !hasKubectl && 'kubectl (kustomize) not installed' }, () => {
      const objs = render(dir);
      const dep = find(objs, 'Deployment', 'sluice');
      const pod = dep.spec.template.spec;
      const c = pod.containers.find((x) => x.name === 'sluice');
      const cfg = YAML.parse(find(objs, 'ConfigMap', 'sluice-config').data['sluice.yaml']);
      const portOf = (name) => c.ports.find((p) => p.name === name)?.containerPort;
      const listenPort = (addr) => Number(String(addr).split(':').pop());

      assert.deepEqual(c.args, ['serve', '-c', '/etc/sluice/sluice.yaml']);
      assert.deepEqual([c.readinessProbe.httpGet.path, c.readinessProbe.httpGet.port], ['/readyz', 'http']);
      assert.deepEqual([c.livenessProbe.httpGet.path, c.livenessProbe.httpGet.port], ['/healthz', 'http']);
      assert.equal(portOf('http'), listenPort(cfg.listen));
      assert.equal(portOf('admin'), listenPort(cfg.admin.listen));
      assert.equal(portOf('metrics'), listenPort(cfg.metrics.listen));
      for (const addr of [cfg.listen, cfg.admin.listen, cfg.metrics.listen]) assert.match(addr, /^0\.0\.0\.0:/, 'reachable from the pod network');

      // SIGTERM: shutdown_delay, then drain_timeout, both inside the grace period (with a margin for exit).
      const need = seconds(cfg.server.shutdown_delay) + seconds(cfg.server.drain_timeout);
      assert.ok(seconds(cfg.server.shutdown_delay) >= 3, 'a delay long enough for endpoint updates to spread');
      assert.ok(pod.terminationGracePeriodSeconds >= need + 5 && pod.terminationGracePeriodSeconds <= need + 30,
        `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} vs shutdown_delay + drain_timeout = ${need}`);
      assert.deepEqual(dep.spec.strategy.rollingUpdate, { maxSurge: 1, maxUnavailable: 0 });

      assert.equal(pod.securityContext.runAsNonRoot, true);
      assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
      assert.equal(c.securityContext.readOnlyRootFilesystem, true);
      assert.equal(c.securityContext.allowPrivilegeEscalation, false);
      assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
      assert.equal(pod.automountServiceAccountToken, false);
      assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory);

      // The config directory is mounted whole (a subPath mount never sees ConfigMap updates: no hot reload),
      // the ledger lives on the data volume (the root filesystem is read-only).
      const mounts = Object.fromEntries(c.volumeMounts.map((m) => [m.mountPath, m]));
      assert.equal(mounts['/etc/sluice'].subPath, undefined);
      assert.equal(pod.volumes.find((v) => v.name === mounts['/etc/sluice'].name).configMap.name, 'sluice-config');
      assert.ok(mounts['/var/lib/sluice'], 'data volume');
      assert.ok(cfg.ledger.path.startsWith('/var/lib/sluice/'), `ledger.path ${cfg.ledger.path}`);
      assert.equal(c.envFrom[0].secretRef.name, 'sluice-keys');

      // Services, the PDB and the NetworkPolicy select exactly the gateway pods.
      const labels = dep.spec.template.metadata.labels;
      const selects = (sel) => Object.entries(sel).every(([k, v]) => labels[k] === v);
      assert.ok(selects(dep.spec.selector.matchLabels));
      for (const name of ['sluice', 'sluice-admin']) {
        const svc = find(objs, 'Service', name);
        assert.ok(selects(svc.spec.selector), `Service ${name}`);
        for (const p of svc.spec.ports) assert.ok(portOf(p.targetPort), `Service ${name} port ${p.targetPort}`);
      }
      assert.ok(selects(find(objs, 'PodDisruptionBudget').spec.selector.matchLabels));
      const np = find(objs, 'NetworkPolicy');
      assert.ok(selects(np.spec.podSelector.matchLabels));
      const rule = (port) => np.spec.ingress.find((r) => r.ports.some((p) => p.port === port));
      assert.equal(rule('http').from, undefined, 'the API is open to whoever can route to it');
      assert.deepEqual(rule('admin').from, [{ podSelector: {} }], 'admin: this namespace only');
      assert.deepEqual(rule('metrics').from, [{ namespaceSelector: {} }], 'metrics: in-cluster');
    });

    test(`${dir}: its sluice config passes \`sluice check\`, with every secret it names`, { skip: !hasKubectl && 'kubectl (kustomize) not installed' }, (t) => {
      const objs = render(dir);
      const text = find(objs, 'ConfigMap', 'sluice-config').data['sluice.yaml'];
      const env = {};
      for (const n of configEnvNames(YAML.parse(text))) env[n] = `test-secret-value-${n.toLowerCase()}`;
      const secret = find(objs, 'Secret', 'sluice-keys');
      if (secret) {
        // The dev overlay ships its Secret: it must hold every variable the config names.
        const have = Object.keys({ ...secret.data, ...secret.stringData });
        assert.deepEqual([...configEnvNames(YAML.parse(text))].filter((n) => n !== 'REDIS_PASSWORD' && !have.includes(n)), []);
        for (const [k, v] of Object.entries(secret.data ?? {})) env[k] = Buffer.from(v, 'base64').toString();
      }
      const r = sluiceCheck(t, text, env);
      assert.equal(r.status, 0, r.out);
      assert.doesNotMatch(r.out, /warning/, 'no warnings either');
    });
  }

  test('dev: a Redis for state.backend redis, and the config points at it', { skip: !hasKubectl && 'kubectl (kustomize) not installed' }, () => {
    const objs = render('overlays/dev');
    const cfg = YAML.parse(find(objs, 'ConfigMap', 'sluice-config').data['sluice.yaml']);
    assert.equal(cfg.state.backend, 'redis');
    const [host, port] = cfg.state.redis.address.split(':');
    const svc = find(objs, 'Service', host);
    assert.ok(svc, `a Service named ${host}`);
    assert.equal(svc.spec.ports[0].port, Number(port));
    assert.ok(find(objs, 'Deployment', host));
    const upstream = new URL(Object.values(cfg.upstreams)[0].base_url);
    assert.equal(find(objs, 'Service', upstream.hostname)?.spec.ports[0].port, Number(upstream.port), 'the sim Service');
  });

  test('production: scraped, autoscaled on sluice_pending_work, Redis by an ExternalName', { skip: !hasKubectl && 'kubectl (kustomize) not installed' }, () => {
    const objs = render('overlays/production');
    const sm = find(objs, 'ServiceMonitor');
    const admin = find(objs, 'Service', 'sluice-admin');
    assert.ok(Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => admin.metadata.labels[k] === v));
    assert.ok(admin.spec.ports.some((p) => p.name === sm.spec.endpoints[0].port));
    assert.equal(find(objs, 'Secret'), undefined, 'production secrets are never in the repository');
    const cfg = YAML.parse(find(objs, 'ConfigMap', 'sluice-config').data['sluice.yaml']);
    const redis = find(objs, 'Service', cfg.state.redis.address.split(':')[0]);
    assert.equal(redis.spec.type, 'ExternalName');
    const hpa = find(objs, 'HorizontalPodAutoscaler');
    assert.equal(hpa.spec.scaleTargetRef.name, find(objs, 'Deployment').metadata.name);
  });

  test('the HPA and the KEDA ScaledObject share the starting thresholds (50 per pod, 300 s up, 600 s down)', () => {
    const hpa = YAML.parse(fs.readFileSync(path.join(k8s, 'components/hpa/hpa.yaml'), 'utf8'));
    const so = YAML.parse(fs.readFileSync(path.join(k8s, 'components/keda/scaledobject.yaml'), 'utf8'));
    assert.deepEqual(hpa.spec.metrics, [{ type: 'Pods', pods: { metric: { name: 'sluice_pending_work' }, target: { type: 'AverageValue', averageValue: '50' } } }]);
    assert.deepEqual(so.spec.advanced.horizontalPodAutoscalerConfig.behavior, hpa.spec.behavior);
    assert.equal(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds, 600);
    assert.ok(hpa.spec.behavior.scaleUp.policies.every((p) => p.periodSeconds === 300));
    assert.deepEqual([so.spec.minReplicaCount, so.spec.maxReplicaCount], [hpa.spec.minReplicas, hpa.spec.maxReplicas]);
    assert.equal(so.spec.triggers[0].metricType, 'AverageValue');
    assert.equal(so.spec.triggers[0].metadata.threshold, hpa.spec.metrics[0].pods.target.averageValue);
    // A PDB of maxUnavailable 1 must leave a replica: the floor is above 1.
    assert.ok(hpa.spec.minReplicas >= 2);
  });
});

describe('autoscaling queries (Prometheus Adapter, KEDA)', () => {
  const adapter = path.join(root, 'deploy/prometheus-adapter');

  test('the adapter rules and the KEDA query are the ones promtool checks', () => {
    const values = YAML.parse(fs.readFileSync(path.join(adapter, 'values.yaml'), 'utf8'));
    const recorded = Object.fromEntries(YAML.parse(fs.readFileSync(path.join(adapter, 'queries.rules.yml'), 'utf8'))
      .groups[0].rules.map((r) => [r.record, r.expr]));
    // The adapter fills its templates for one request: series, matchers of the pods asked for, group-by labels.
    const fill = (q, matchers, groupBy) => q.replaceAll('<<.Series>>', 'sluice_pending_work')
      .replaceAll('<<.LabelMatchers>>', matchers).replaceAll('<<.GroupBy>>', groupBy);
    const [custom] = values.rules.custom;
    const [external] = values.rules.external;
    assert.equal(values.rules.default, false);
    assert.equal(custom.name.as, 'sluice_pending_work');
    assert.deepEqual(custom.resources.overrides, { namespace: { resource: 'namespace' }, pod: { resource: 'pod' } });
    assert.equal(fill(custom.metricsQuery, 'namespace="sluice",pod=~"sluice-.*"', 'pod'), recorded['adapter:custom:sluice_pending_work']);
    assert.equal(fill(external.metricsQuery, 'namespace="sluice"', 'namespace'), recorded['adapter:external:sluice_pending_work_sum']);
    const so = YAML.parse(fs.readFileSync(path.join(k8s, 'components/keda/scaledobject.yaml'), 'utf8'));
    assert.equal(so.spec.triggers[0].metadata.query, recorded['keda:sluice_pending_work']);
    // The series selectors the adapter discovers metrics with are valid PromQL too.
    for (const rule of [custom, external]) {
      const r = run('promtool', ['check', 'rules', writeRules(rule.seriesQuery)]);
      assert.equal(r.status, 0, r.out);
    }
  });

  test('promtool: the queries parse and compute the per-pod and summed pending work', () => {
    const check = run('promtool', ['check', 'rules', 'queries.rules.yml'], { cwd: adapter });
    assert.equal(check.status, 0, check.out);
    assert.match(check.out, /SUCCESS: 3 rules found/);
    const unit = run('promtool', ['test', 'rules', 'queries_test.yml'], { cwd: adapter });
    assert.equal(unit.status, 0, unit.out);
  });
});

function writeRules(expr) {
  const f = path.join(tempDir(), 'rules.yml');
  fs.writeFileSync(f, YAML.stringify({ groups: [{ name: 'g', rules: [{ record: 'r', expr }] }] }));
  return f;
}

describe('container image', () => {
  const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');

  test('the build stage runs the project\'s own scripts and the tests\' cmake preset', () => {
    assert.match(dockerfile, /^FROM \$\{DEBIAN_IMAGE\} AS build$/m);
    assert.match(dockerfile, /^ARG DEBIAN_IMAGE=debian:12$/m);
    assert.match(dockerfile, /^FROM debian:12-slim AS runtime$/m);
    assert.match(dockerfile, /scripts\/install-deps\.sh build/);
    assert.match(dockerfile, /cmake --preset release -DBUILD_TESTING=ON/);
    assert.match(dockerfile, /cmake --build --preset release --target sluice/);
    // The same commands the Makefile's build target runs (what `make test` builds with).
    const makefile = fs.readFileSync(path.join(root, 'Makefile'), 'utf8');
    assert.match(makefile, /scripts\/install-deps\.sh build/);
    assert.match(makefile, /cmake --preset release -DBUILD_TESTING=ON/);
    for (const m of dockerfile.matchAll(/^COPY (?!--from)(\S+)/gm)) {
      assert.ok(fs.existsSync(path.join(root, m[1])), `COPY source ${m[1]}`);
    }
  });

  test('runtime: non-root user, config path, data volume and ports agree with the Deployment', () => {
    const user = /^USER (\d+):(\d+)$/m.exec(dockerfile);
    assert.ok(user, 'a numeric USER (runAsNonRoot can only verify a numeric uid)');
    const dep = YAML.parse(fs.readFileSync(path.join(k8s, 'base/deployment.yaml'), 'utf8'));
    const pod = dep.spec.template.spec;
    assert.equal(pod.securityContext.runAsUser, Number(user[1]));
    assert.equal(pod.securityContext.runAsGroup, Number(user[2]));
    assert.match(dockerfile, /^CMD \["serve", "-c", "\/etc\/sluice\/sluice\.yaml"\]$/m);
    assert.match(dockerfile, /^VOLUME \["\/var\/lib\/sluice"\]$/m);
    const exposed = /^EXPOSE (.*)$/m.exec(dockerfile)[1].split(/\s+/).map(Number).sort();
    assert.deepEqual(exposed, pod.containers[0].ports.map((p) => p.containerPort).sort());
  });

  test('the image\'s default config passes `sluice check`', (t) => {
    const text = fs.readFileSync(path.join(root, 'deploy/docker/sluice.yaml'), 'utf8');
    const r = sluiceCheck(t, text, { DEEPSEEK_API_KEY: 'sk-test' });
    assert.equal(r.status, 0, r.out);
    assert.match(YAML.parse(text).ledger.path, /^\/var\/lib\/sluice\//);
  });

  test('runtime packages: found from the binary\'s libraries, each one a Debian 12 package', () => {
    const r = run(path.join(root, 'deploy/docker/runtime-packages.sh'), [SLUICE_BIN]);
    assert.equal(r.status, 0, r.out);
    const pkgs = r.stdout.trim().split('\n');
    for (const p of ['libssl3', 'libyaml-cpp0.7', 'libsqlite3-0', 'libboost-json1.81.0']) assert.ok(pkgs.includes(p), `${p} in ${pkgs}`);
    assert.ok(!pkgs.some((p) => p.endsWith('-dev')), 'no development packages at run time');
    const show = run('apt-cache', ['show', '--no-all-versions', ...pkgs]);
    assert.equal(show.status, 0, show.out);
    const found = [...show.stdout.matchAll(/^Package: (\S+)$/gm)].map((m) => m[1]);
    assert.deepEqual([...new Set(found)].sort(), [...pkgs].sort());
  });
});
