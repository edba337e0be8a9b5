// Only the entry points: the template engine, tabwriter and flag parsing load with the commands that use them.
export { main, report, parseRunArgs, PROG, CLI_VERSION } from './main.ts';
