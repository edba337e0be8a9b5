/** Worker thread entry: unpacks layer blobs on request (see UnpackWorker in layer-unpack.ts). */
import { parentPort } from 'node:worker_threads';
import { unpackFile } from './layer-unpack.ts';

parentPort?.on('message', (m: { blobPath: string; diffDir: string; whiteoutTemplate: string; blobDigest?: string }) => {
  unpackFile(m.blobPath, m.diffDir, m.whiteoutTemplate, m.blobDigest).then(
    (result) => parentPort?.postMessage({ ok: true, result }),
    (e: unknown) => parentPort?.postMessage({ ok: false, kind: (e as Error)?.name, message: e instanceof Error ? e.message : String(e) }),
  );
});
