/**
 * The AST dump of BuildKit's parser tests (`Node.Dump()`, the format of
 * frontend/dockerfile/parser/testfiles/<name>/result): one `(keyword ["flags"] "arg" ...)` line per
 * instruction, keyword lower-cased, strings quoted as Go's %q, ONBUILD's instruction nested.
 */
import { goQuote } from './parser.ts';
import type { Node, ParseResult } from './parser.ts';

export function dumpNode(n: Node): string {
  let s = n.value.toLowerCase();
  if (n.flags.length > 0) s += ` [${n.flags.map(goQuote).join(' ')}]`;
  if (n.sub) s += ` (${dumpNode(n.sub)})`;
  for (const a of n.args) s += ' ' + goQuote(a);
  return s.trim();
}

/** The whole file, one line per instruction, each ending in a newline (as the result files do). */
export function dumpAst(result: Pick<ParseResult, 'children'>): string {
  return result.children.map((n) => `(${dumpNode(n)})\n`).join('');
}
