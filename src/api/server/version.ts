/** The Engine API versions berth speaks (Docker 20.10's range). */
export const API_VERSION = '1.41';
export const MIN_API_VERSION = '1.12';

function cmp(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = Number(pa[i] ?? 0) - Number(pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}
export const compareVersions = cmp;
export const versionAtLeast = (v: string, min: string): boolean => cmp(v, min) >= 0;
