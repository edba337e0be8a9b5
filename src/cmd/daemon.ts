/**
 * berthd's entry point (bin/berthd runs dist/cmd/daemon.js). It turns on Node's compile cache before
 * anything else is loaded, then starts the daemon (daemon-main.ts).
 */
import module from 'node:module';

module.enableCompileCache?.();
const { runDaemon } = await import('./daemon-main.ts');
runDaemon(process.argv.slice(2));
