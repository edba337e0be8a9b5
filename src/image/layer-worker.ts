/** Worker thread entry: unpacks layers on request (see UnpackWorker in layer-unpack.ts). */
import { parentPort } from 'node:worker_threads';
import { serveUnpackRequests } from './layer-unpack.ts';

if (parentPort) serveUnpackRequests(parentPort);
