/**
 * builder: the Dockerfile frontend (issue 6). For now the parser, the AST dump and Docker's
 * shell-word expansion; the classic builder will live here too.
 *
 * parseDockerfile(text, { name?, validate?, heredocs? }) → { directives, escapeToken, children: Node[], warnings }
 *   throws DockerfileParseError (an InvalidArgumentError, with `.line`) in Docker's words.
 * dumpAst(result) → BuildKit's test dump format, one `(...)` line per instruction.
 * expandWord / expandWords → ProcessWord / ProcessWords of Docker's shell lexer.
 * readDockerignore(text) → the patterns; PatternMatcher / matchesPatterns → moby fileutils' matching (`!`, `**`,
 *   parents); trimBuildFilesFromExcludes → the docker CLI's rule that the Dockerfile and .dockerignore are sent.
 */
export { parseDockerfile, chompHeredocContent, DockerfileParseError } from './parser.ts';
export type { Node, Heredoc, Directive, Warning, ParseResult, ParseOptions } from './parser.ts';
export { dumpAst, dumpNode } from './ast-dump.ts';
export { expandWord, expandWords } from './lexer.ts';
export type { Env, LexOptions } from './lexer.ts';
export { readDockerignore, PatternMatcher, Pattern, matchesPatterns, trimBuildFilesFromExcludes, patternRegexp } from './dockerignore.ts';
