// scripts/check-includes.sh: the tree passes, and an upward or same-level include in a copy of it fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './lib/gateway.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const script = path.join(root, 'scripts/check-includes.sh');
const check = (src) => spawnSync('bash', [script, src], { encoding: 'utf8', timeout: 60000 });

test('the source tree imports one way', () => {
  const r = check(path.join(root, 'src'));
  assert.equal(r.status, 0, r.stderr);
});

test('an upward include, a same-level include and an unknown module fail', () => {
  const src = path.join(tempDir(), 'src');
  const put = (file, text) => {
    fs.mkdirSync(path.dirname(path.join(src, file)), { recursive: true });
    fs.writeFileSync(path.join(src, file), text);
  };
  put('common/a.h', '#pragma once\n');
  put('routing/r.h', '#include "common/a.h"\n');
  assert.equal(check(src).status, 0);
  put('cache/up.h', '#include "upstream/attempt.h"\n');
  let r = check(src);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cache\/up\.h: includes "upstream\/attempt\.h": cache \(level 3\) may not include upstream \(level 5\)/);
  fs.rmSync(path.join(src, 'cache/up.h'));
  put('cache/side.h', '#include "routing/r.h"\n');
  r = check(src);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cache \(level 3\) may not include routing \(level 3\)/);
  fs.rmSync(path.join(src, 'cache/side.h'));
  put('newmod/x.h', '#include "common/a.h"\n');
  r = check(src);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /module 'newmod' has no level/);
});
