// Word-for-word comparison of a received text with the unbroken answer, and the verdict on one answer.
//   ok         a 200 (or a finished stream) with exactly the expected text and finish_reason
//   error      an honest error: an HTTP error status, or a stream that ended with an in-band error event,
//              after a text that is a prefix of the expected one
//   cut        a 200 / stream whose finish_reason says insufficient_system_resource, after a correct prefix
//   dishonest  what must never happen: a 200 or finished stream with the wrong text, an unparseable 200, a
//              stream that stopped without finish_reason or error event, a forwarded malformed chunk, a
//              prefix before an error that is not the answer's prefix
//   dropped    the gateway closed the connection without an HTTP answer
//   hang       no answer within the client's deadline (longer than the gateway's request_timeout)

const words = (s) => (s ?? '').split(/\s+/).filter(Boolean);

// Lost and duplicated words of `got` against `want` (longest common subsequence). With partial=true only
// words before the last matched one count as lost (an honest error may stop early).
export function tokenDiff(got, want, partial = false) {
  const a = words(got);
  const b = words(want);
  const dp = Array.from({ length: a.length + 1 }, () => new Uint16Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      dp[i][j] = a[i] === b[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
    }
  }
  let i = 0;
  let j = 0;
  let lastMatched = -1;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) { lastMatched = j; i++; j++; } else if (dp[i + 1][j] >= dp[i][j + 1]) i++; else j++;
  }
  const common = dp[0][0];
  const lost = (partial ? lastMatched + 1 : b.length) - common;
  return { lost, dup: a.length - common };
}

// The verdict for a received answer. r: {text, finish, status?, inbandError?, ...}; want: expectedAnswer().
export function judge(r, want) {
  const diff = (partial) => tokenDiff(r.text, want.text, partial);
  const isPrefix = want.text.startsWith(r.text ?? '');
  if (r.finish === 'insufficient_system_resource') {
    return isPrefix ? { kind: 'cut', code: 'finish_reason insufficient_system_resource', ...diff(true) }
      : { kind: 'dishonest', code: 'cut answer with a wrong prefix', ...diff(true) };
  }
  if (r.inbandError) {
    return isPrefix ? { kind: 'error', code: r.inbandError, lost: 0, dup: 0 }
      : { kind: 'dishonest', code: `error event after a wrong prefix (${r.inbandError})`, ...diff(true) };
  }
  if (!r.finish) {
    return { kind: 'dishonest', code: r.stream ? 'stream ended without finish_reason or error event' : '200 without choices', ...diff(true) };
  }
  if (r.text === want.text && r.finish === want.finish) return { kind: 'ok', code: null, lost: 0, dup: 0 };
  const d = diff(false);
  const what = r.text === want.text ? `finish_reason ${r.finish}, expected ${want.finish}` : 'wrong text';
  return { kind: 'dishonest', code: `200 with ${what}`, ...d };
}
