/** Hand-made docker-archive tars for bad-input tests (python3's tarfile writes them: it lets us put hostile entries in). */
import { spawnSync } from 'node:child_process';

const PY = `
import tarfile, io, json, hashlib, sys
out, kind, target = sys.argv[1], sys.argv[2], sys.argv[3]
def entry(t, name, data=None, **kw):
    ti = tarfile.TarInfo(name)
    for k, v in kw.items(): setattr(ti, k, v)
    if data is not None:
        ti.size = len(data); t.addfile(ti, io.BytesIO(data))
    else:
        t.addfile(ti)
layer = io.BytesIO()
with tarfile.open(fileobj=layer, mode='w', format=tarfile.PAX_FORMAT) as t:
    entry(t, 'ok.txt', b'fine\\n')
    if kind == 'dotdot':
        entry(t, '../../../../../../..' + target, b'pwned\\n')
    elif kind == 'absolute':
        entry(t, target, b'pwned\\n')
    elif kind == 'symlink':
        entry(t, 'link', type=tarfile.SYMTYPE, linkname=target.rsplit('/', 1)[0])
        entry(t, 'link/' + target.rsplit('/', 1)[1], b'pwned\\n')
    elif kind == 'hardlink':
        entry(t, 'hl', type=tarfile.LNKTYPE, linkname='../../../../../../..' + target)
lb = layer.getvalue(); ld = hashlib.sha256(lb).hexdigest()
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + ld]},
    "history": [{"created": "2026-11-23T00:00:00Z", "created_by": "test"}]}).encode()
cd = hashlib.sha256(config).hexdigest()
manifest = json.dumps([{"Config": cd + ".json", "RepoTags": ["evil-" + kind + ":latest"], "Layers": [ld + "/layer.tar"]}]).encode()
with tarfile.open(out, 'w') as t:
    entry(t, ld + '/', type=tarfile.DIRTYPE, mode=0o755)
    entry(t, ld + '/layer.tar', lb)
    entry(t, cd + '.json', config)
    entry(t, 'manifest.json', manifest)
`;

export type HostileKind = 'dotdot' | 'absolute' | 'symlink' | 'hardlink';

/** Write a one-layer docker-archive at `out` whose layer tries to write `target` (an absolute host path) by `kind`. */
export function hostileArchive(out: string, kind: HostileKind, target: string): void {
  const r = spawnSync('python3', ['-c', PY, out, kind, target], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3: ${r.stderr}`);
}

/** The entries of a plain tar (ustar/PAX headers): name, data size, header offset. PAX/GNU long names are not resolved. */
export function tarEntries(buf: Buffer): { name: string; size: number; offset: number }[] {
  const out: { name: string; size: number; offset: number }[] = [];
  let off = 0;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const cstr = (a: number, n: number) => h.subarray(a, a + n).toString('latin1').replace(/\0.*$/s, '');
    const prefix = cstr(345, 155);
    const name = (prefix ? prefix + '/' : '') + cstr(0, 100);
    const size = parseInt(cstr(124, 12).trim() || '0', 8);
    out.push({ name, size, offset: off });
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}
