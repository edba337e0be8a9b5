import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runInHelper } from './shell-helper.ts';

test('runInHelper runs tools in order with their exit codes and output, quoting arguments', async () => {
  const [a, b, c] = await Promise.all([
    runInHelper('printf', ['%s|', "it's", 'a $HOME `x`']),
    runInHelper('sh', ['-c', 'echo oops >&2; exit 3']),
    runInHelper('true', []),
  ]);
  assert.deepEqual(a, { code: 0, output: "it's|a $HOME `x`|" });
  assert.deepEqual(b, { code: 3, output: 'oops\n' });
  assert.deepEqual(c, { code: 0, output: '' });
  assert.equal((await runInHelper('/nonexistent-tool', [])).code, 127);
});
