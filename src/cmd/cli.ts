/** The berth CLI entry point (bin/berth → dist/cmd/cli.js). */
import module from 'node:module';

// Cache compiled code across runs (start-up is most of a CLI call's time): $XDG_CACHE_HOME or ~/.cache, berth/compile.
const cacheHome = process.env.XDG_CACHE_HOME || (process.env.HOME ? `${process.env.HOME}/.cache` : '');
if (cacheHome) {
  try {
    module.enableCompileCache?.(`${cacheHome}/berth/compile`);
  } catch { /* read-only home: run without the cache */ }
}

// `berth save | head`: a closed pipe ends the command quietly, as docker does
process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(0); throw e; });

const { main } = await import('../cli/index.ts');
const code = await main(process.argv.slice(2));
process.exit(code);
