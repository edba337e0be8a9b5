/**
 * berth-registry's entry point (bin/berth-registry runs dist/cmd/registry.js): parse flags, then serve, or
 * garbage-collect the storage.
 *   berth-registry [serve] [--addr 127.0.0.1:5000] [--root /var/lib/berth-registry] [--htpasswd FILE]
 *                  [--tls-cert FILE --tls-key FILE] [--disable-delete] [--log-level info]
 *   berth-registry garbage-collect [--root DIR] [--dry-run] [--delete-untagged] [--upload-max-age HOURS]
 */
import module from 'node:module';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { LevelWithSilent } from 'pino';
import { initLogger, log } from '../lib/index.ts';
import { garbageCollect, HtpasswdAuthorizer, startRegistry } from '../registry/server/index.ts';

const USAGE = `Usage: berth-registry [serve] [--addr HOST:PORT] [--root DIR] [--htpasswd FILE] [--tls-cert FILE --tls-key FILE] [--disable-delete] [--log-level LEVEL]
       berth-registry garbage-collect [--root DIR] [--dry-run] [--delete-untagged] [--upload-max-age HOURS]`;

export async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        addr: { type: 'string', default: '127.0.0.1:5000' },
        root: { type: 'string', default: '/var/lib/berth-registry' },
        htpasswd: { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'disable-delete': { type: 'boolean', default: false },
        'log-level': { type: 'string', default: 'info' },
        'dry-run': { type: 'boolean', default: false },
        'delete-untagged': { type: 'boolean', short: 'm', default: false },
        'upload-max-age': { type: 'string', default: '24' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    console.error(`berth-registry: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values: v, positionals } = args;
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  const cmd = positionals[0] ?? 'serve';
  initLogger(v['log-level'] as LevelWithSilent);
  if (cmd === 'garbage-collect') {
    const r = await garbageCollect(v.root, { dryRun: v['dry-run'], deleteUntagged: v['delete-untagged'], uploadMaxAgeMs: Number(v['upload-max-age']) * 3600_000 });
    for (const m of r.removedManifests) console.log(`${v['dry-run'] ? 'would delete' : 'deleted'} manifest ${m}`);
    for (const d of r.removedBlobs) console.log(`${v['dry-run'] ? 'would delete' : 'deleted'} blob ${d}`);
    for (const u of r.removedUploads) console.log(`${v['dry-run'] ? 'would delete' : 'deleted'} upload ${u}`);
    console.log(`${r.marked} blobs marked, ${r.removedBlobs.length} blobs ${v['dry-run'] ? 'eligible for deletion' : 'deleted'} (${r.freedBytes} bytes)`);
    return 0;
  }
  if (cmd !== 'serve') {
    console.error(`berth-registry: unknown command ${cmd}\n${USAGE}`);
    return 2;
  }
  if (!!v['tls-cert'] !== !!v['tls-key']) {
    console.error('berth-registry: --tls-cert and --tls-key go together');
    return 2;
  }
  const reg = await startRegistry({
    root: v.root,
    addr: v.addr,
    deleteEnabled: !v['disable-delete'],
    ...(v.htpasswd ? { authorizer: HtpasswdAuthorizer.fromFile(v.htpasswd) } : {}),
    ...(v['tls-cert'] && v['tls-key'] ? { tls: { certFile: v['tls-cert'], keyFile: v['tls-key'] } } : {}),
  });
  const stop = (sig: string): void => {
    log().info({ signal: sig }, 'berth-registry stopping');
    void reg.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return new Promise<number>(() => {}); // serves until a signal
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  module.enableCompileCache?.();
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`berth-registry: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
