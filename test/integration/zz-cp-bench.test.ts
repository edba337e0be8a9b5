import { it } from 'node:test';
import { mkdtempSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { randomBytes, createHash } from 'node:crypto';
import { join } from 'node:path';
import { startDaemon } from '../helpers/daemon.ts';
it('bench', async () => {
  const d = await startDaemon();
  try {
    await d.load('busybox');
    const w = mkdtempSync('/tmp/cpbench/w-');
    const big = randomBytes(64 << 20);
    writeFileSync(join(w, 'big'), big);
    mkdirSync(join(w, 'many'));
    for (let i = 0; i < 3000; i++) { mkdirSync(join(w, 'many', `d${i % 50}`), { recursive: true }); writeFileSync(join(w, 'many', `d${i % 50}`, `f${i}`), `file ${i}\n`); }
    await d.docker(['run', '-d', '--name', 'bench', 'busybox:1.35', 'sleep', '300']);
    const t = async (label: string, a: string[]) => { const t0 = performance.now(); const r = await d.docker(a); console.log(d.engine, label, r.code, Math.round(performance.now() - t0), 'ms', r.stderr.slice(0, 200)); };
    await t('big in', ['cp', join(w, 'big'), 'bench:/tmp/big']);
    await t('big out', ['cp', 'bench:/tmp/big', join(w, 'big2')]);
    console.log('same', createHash('sha256').update(readFileSync(join(w, 'big2'))).digest('hex') === createHash('sha256').update(big).digest('hex'));
    await t('many in', ['cp', join(w, 'many'), 'bench:/tmp/many']);
    await t('many out', ['cp', 'bench:/tmp/many', join(w, 'many2')]);
    await t('stat', ['cp', 'bench:/etc/hostname', join(w, 'hn')]);
    await t('diff', ['diff', 'bench']);
  } finally { await d.cleanup(); }
});
