/**
 * `.dockerignore` as the docker 20.10 CLI and the classic builder read and apply it: BuildKit's
 * dockerignore.ReadAll (comments, trimming, Clean, a leading `/` dropped, `!` exceptions) and moby's
 * pkg/fileutils PatternMatcher (`*`, `?`, `[...]`, `**`, `\` escapes; a pattern that matches a parent
 * directory matches everything below it; the last matching pattern decides).
 */
import { InvalidArgumentError, goClean } from '../../lib/index.ts';

/** Go's strings.TrimSpace (unicode.IsSpace: unlike String.prototype.trim, not U+FEFF; U+0085 too). */
const goTrim = (s: string): string => s.replace(/^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g, '');

/** The patterns of a .dockerignore file, in order (`!` kept in front of exceptions). */
export function readDockerignore(text: string): string[] {
  const out: string[] = [];
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  lines.forEach((raw, i) => {
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (i === 0 && line.startsWith('\uFEFF')) line = line.slice(1);
    if (line.startsWith('#')) return;
    let p = goTrim(line);
    if (p === '') return;
    const invert = p[0] === '!';
    if (invert) p = goTrim(p.slice(1));
    if (p.length > 0) {
      p = goClean(p);
      if (p.length > 1 && p[0] === '/') p = p.slice(1);
    }
    out.push(invert ? `!${p}` : p);
  });
  return out;
}

const BAD = 'syntax error in pattern';

/** filepath.Match's syntax check (what NewPatternMatcher calls it for): classes closed and not empty, no trailing `\`. */
function checkSyntax(p: string): void {
  const cs = [...p];
  let i = 0;
  const esc = (): void => {
    // getEsc: a class bound; `-` and `]` are not bounds, `\` escapes the next character
    if (i >= cs.length || cs[i] === '-' || cs[i] === ']') throw new InvalidArgumentError(BAD);
    if (cs[i] === '\\' && ++i >= cs.length) throw new InvalidArgumentError(BAD);
    i++;
  };
  while (i < cs.length) {
    const c = cs[i]!;
    if (c === '\\') {
      if (i + 1 >= cs.length) throw new InvalidArgumentError(BAD);
      i += 2;
    } else if (c === '[') {
      i++;
      if (cs[i] === '^') i++;
      for (let n = 0; ; n++) {
        if (i < cs.length && cs[i] === ']' && n > 0) { i++; break; }
        esc();
        if (i < cs.length && cs[i] === '-') { i++; esc(); }
      }
    } else i++;
  }
}

/** One pattern: the cleaned text, its path elements, exception or not, and its regexp (built on first use). */
export class Pattern {
  readonly cleaned: string;
  readonly dirs: string[];
  readonly exclusion: boolean;
  #re: RegExp | undefined;

  constructor(cleaned: string, exclusion: boolean) {
    this.cleaned = cleaned;
    this.dirs = cleaned.split('/');
    this.exclusion = exclusion;
  }

  toString(): string { return this.cleaned; }

  match(path: string): boolean {
    if (!this.#re) {
      try { this.#re = new RegExp(patternRegexp(this.cleaned)); } catch { throw new InvalidArgumentError(BAD); }
    }
    return this.#re.test(path);
  }
}

/** fileutils' Pattern.compile: the pattern as an anchored regular expression. */
export function patternRegexp(pattern: string): string {
  const cs = [...pattern];
  let re = '^';
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i]!;
    if (c === '*') {
      if (cs[i + 1] === '*') {
        i++;
        if (cs[i + 1] === '/') i++; // `**/` is `**`
        re += i + 1 >= cs.length ? '.*' : '(.*/)?';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '.' || c === '$') re += `\\${c}`;
    else if (c === '\\') {
      if (i + 1 < cs.length) re += `\\${cs[++i]}`;
      else re += '\\\\';
    } else re += c;
  }
  return `${re}$`;
}

/** moby's fileutils.PatternMatcher. */
export class PatternMatcher {
  readonly patterns: Pattern[] = [];
  /** Some pattern is an exception (`!…`). */
  readonly exclusions: boolean = false;

  constructor(patterns: readonly string[]) {
    for (let p of patterns) {
      p = goTrim(p);
      if (p === '') continue;
      p = goClean(p);
      let exclusion = false;
      if (p[0] === '!') {
        if (p.length === 1) throw new InvalidArgumentError('illegal exclusion pattern: "!"');
        exclusion = true;
        p = p.slice(1);
        this.exclusions = true;
      }
      checkSyntax(p);
      this.patterns.push(new Pattern(p, exclusion));
    }
  }

  /** Whether `file` (a slash-separated path relative to the context) is excluded. */
  matches(file: string): boolean {
    let matched = false;
    const slash = file.lastIndexOf('/');
    const parent = slash < 0 ? '.' : goClean(file.slice(0, slash) || '/');
    const parentDirs = parent.split('/');
    for (const p of this.patterns) {
      let m = p.match(file);
      if (!m && parent !== '.' && p.dirs.length <= parentDirs.length) {
        m = p.match(parentDirs.slice(0, p.dirs.length).join('/'));
      }
      if (m) matched = !p.exclusion;
    }
    return matched;
  }

  /**
   * TarWithOptions' rule for an excluded directory: it must still be walked when an exception names
   * something inside it (`!dir/keep`).
   */
  mustWalk(dir: string): boolean {
    if (!this.exclusions) return false;
    const prefix = `${dir}/`;
    return this.patterns.some((p) => p.exclusion && `${p.cleaned}/`.startsWith(prefix));
  }
}

/** fileutils.Matches: `file` against `patterns`; the context root itself is never excluded. */
export function matchesPatterns(file: string, patterns: readonly string[]): boolean {
  const pm = new PatternMatcher(patterns);
  const f = goClean(file);
  if (f === '.') return false;
  return pm.matches(f);
}

/**
 * The docker CLI's TrimBuildFilesFromExcludes: the Dockerfile and .dockerignore are always sent
 * (the daemon drops them afterwards if they match), so exceptions for them are appended.
 */
export function trimBuildFilesFromExcludes(excludes: readonly string[], dockerfile: string, dockerfileFromStdin: boolean): string[] {
  const out = [...excludes];
  if (matchesPatterns('.dockerignore', out)) out.push('!.dockerignore');
  if (matchesPatterns(dockerfile, out) && !dockerfileFromStdin) out.push(`!${dockerfile}`);
  return out;
}
