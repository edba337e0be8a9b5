/**
 * `docker import -c` / `commit -c`: Dockerfile instructions applied to a partial image config
 * (Docker's validCommitCommands, plus STOPSIGNAL).
 */
import type { ImageRunConfig } from '../../oci/index.ts';
import { InvalidArgumentError } from '../../lib/index.ts';

/** Words of a shell-ish line: whitespace-separated, "double" and 'single' quotes, backslash escapes. */
function words(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let q: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (q) {
      if (c === q) q = undefined;
      else if (c === '\\' && q === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
      continue;
    }
    if (c === '"' || c === "'") { q = c; has = true; continue; }
    if (c === '\\' && i + 1 < s.length) { cur += s[++i]; has = true; continue; }
    if (/\s/.test(c)) { if (has) out.push(cur); cur = ''; has = false; continue; }
    cur += c;
    has = true;
  }
  if (has) out.push(cur);
  return out;
}

/** JSON form (`["a","b"]`) or shell form (→ `/bin/sh -c <rest>`). */
function execOrShell(rest: string): string[] {
  const t = rest.trim();
  if (t.startsWith('[')) {
    try {
      const v = JSON.parse(t) as unknown;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
    } catch { /* shell form */ }
  }
  return ['/bin/sh', '-c', t];
}

/** `k=v k2="v 2"` or the legacy `k v` form. */
function pairs(instr: string, rest: string): [string, string][] {
  const ws = words(rest);
  if (ws.length && !ws[0]!.includes('=')) {
    const m = /^\s*(\S+)\s+(.*)$/.exec(rest);
    if (!m) throw new InvalidArgumentError(`${instr} requires at least one argument`);
    return [[m[1]!, m[2]!.trim()]];
  }
  return ws.map((w) => {
    const i = w.indexOf('=');
    if (i <= 0) throw new InvalidArgumentError(`${instr} names can not be blank`);
    return [w.slice(0, i), w.slice(i + 1)];
  });
}

export function applyChanges(changes: string[], base: Partial<ImageRunConfig> = {}): Partial<ImageRunConfig> {
  const cfg: Partial<ImageRunConfig> = { ...base };
  for (const raw of changes) {
    for (const line of raw.split('\n')) {
      const t = line.trim();
      if (!t || t.startsWith('#')) continue;
      const m = /^(\S+)\s*(.*)$/s.exec(t)!;
      const instr = m[1]!.toLowerCase();
      const rest = m[2]!;
      switch (instr) {
        case 'cmd': cfg.Cmd = execOrShell(rest); break;
        case 'entrypoint': cfg.Entrypoint = execOrShell(rest); break;
        case 'env': {
          const env = [...(cfg.Env ?? [])];
          for (const [k, v] of pairs('ENV', rest)) {
            const i = env.findIndex((e) => e.split('=', 1)[0] === k);
            if (i >= 0) env[i] = `${k}=${v}`; else env.push(`${k}=${v}`);
          }
          cfg.Env = env;
          break;
        }
        case 'label': {
          const labels = { ...(cfg.Labels ?? {}) };
          for (const [k, v] of pairs('LABEL', rest)) labels[k] = v;
          cfg.Labels = labels;
          break;
        }
        case 'expose': {
          const ports = { ...(cfg.ExposedPorts ?? {}) };
          for (const p of words(rest)) ports[p.includes('/') ? p : `${p}/tcp`] = {};
          cfg.ExposedPorts = ports;
          break;
        }
        case 'volume': {
          const vols = { ...(cfg.Volumes ?? {}) };
          const list = rest.trim().startsWith('[') ? execOrShell(rest) : words(rest);
          if (list[0] === '/bin/sh' && list[1] === '-c') list.splice(0, 2, ...words(list[2] ?? ''));
          for (const v of list) vols[v] = {};
          cfg.Volumes = vols;
          break;
        }
        case 'workdir': cfg.WorkingDir = words(rest).join(' '); break;
        case 'user': cfg.User = rest.trim(); break;
        case 'stopsignal': cfg.StopSignal = rest.trim(); break;
        case 'onbuild': cfg.OnBuild = [...(cfg.OnBuild ?? []), rest.trim()]; break;
        default: throw new InvalidArgumentError(`${instr} is not a valid change command`);
      }
    }
  }
  return cfg;
}
