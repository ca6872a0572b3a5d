// The runner's verdicts can fail: the SDK client pointed straight at a faulty fixture (what a gateway that
// forwards everything would deliver) must be judged dishonest, dropped or hung where it is, and the token
// diff must count lost and duplicated words.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { expectedAnswer } from '../fixture/answer.mjs';
import { FixtureHost } from '../fixture/host.mjs';
import { send } from '../runner/client.mjs';
import { judge, tokenDiff } from '../runner/check.mjs';

const h = new FixtureHost({ name: 'v', seed: 3, opts: { ttftMs: 1, itlMs: 1, stallMaxMs: 5000 } });
await h.start(0);
after(() => h.close());

let n = 0;
async function direct(faults, stream, deadlineMs = 3000) {
  h.configure({ faults });
  const messages = [{ role: 'user', content: `verdict ${n++}` }];
  return send(`http://127.0.0.1:${h.port}/v1`, { rid: `v${n}`, stream, messages, want: expectedAnswer(messages) }, deadlineMs);
}

test('unbroken answers are ok in both shapes', async () => {
  for (const stream of [false, true]) assert.equal((await direct({}, stream)).kind, 'ok');
});

test('forwarded faults are judged as a client would suffer them', async () => {
  const cases = [
    [{ reset_mid_stream: 1 }, true, 'dishonest', /stream cut without error event/],
    [{ malformed: 1 }, true, 'dishonest', /malformed chunk forwarded/],
    [{ malformed: 1 }, false, 'dishonest', /unparseable 200/],
    [{ error_event: 1 }, false, 'dishonest', /200 without choices/],
    [{ keepalive_giveup: 1 }, true, 'dishonest', /without finish_reason/],
    [{ error_event: 1 }, true, 'error', /stream error event generation_failed/],
    [{ insufficient: 1 }, true, 'cut', /insufficient_system_resource/],
    [{ insufficient: 1 }, false, 'cut', /insufficient_system_resource/],
    [{ http_503: 1 }, false, 'error', /^503 server_overloaded$/],
    [{ refused: 1 }, false, 'dropped', /connection error/],
  ];
  for (const [faults, stream, kind, code] of cases) {
    const o = await direct(faults, stream);
    assert.equal(o.kind, kind, `${JSON.stringify(faults)} stream=${stream}: ${o.code}`);
    assert.match(o.code, code);
  }
});

test('a stall past the client deadline is a hang', async () => {
  const o = await direct({ stall: 1 }, true, 300);
  assert.equal(o.kind, 'hang');
});

test('token diff counts lost and duplicated words; judge rejects a wrong 200', () => {
  assert.deepEqual(tokenDiff('a b b c', 'a b c'), { lost: 0, dup: 1 });
  assert.deepEqual(tokenDiff('a c', 'a b c'), { lost: 1, dup: 0 });
  assert.deepEqual(tokenDiff('a b', 'a b c', true), { lost: 0, dup: 0 });
  const want = { text: 'A b c', finish: 'stop' };
  assert.equal(judge({ text: 'A b c', finish: 'stop' }, want).kind, 'ok');
  assert.equal(judge({ text: 'A c', finish: 'stop' }, want).kind, 'dishonest');
  assert.equal(judge({ text: 'A b c', finish: 'length' }, want).kind, 'dishonest');
  assert.equal(judge({ text: 'A b b', inbandError: 'x' }, want).kind, 'dishonest');
  assert.equal(judge({ text: 'A b', inbandError: 'x' }, want).kind, 'error');
});
