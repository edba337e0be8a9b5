/** A tiny router: static paths by map lookup, parameterised ones by one regex each. */
import type { Handler, HijackHandler } from './http.ts';

export interface Route { handler?: Handler; hijack?: HijackHandler }
interface Dynamic { re: RegExp; route: Route }

export class Router {
  #static = new Map<string, Route>();
  #dynamic = new Map<string, Dynamic[]>();

  /** Pattern segments: `{id}` matches one segment, `{name:.*}` one or more (image names with slashes). */
  add(method: string, pattern: string, route: Route): void {
    if (!pattern.includes('{')) {
      this.#static.set(`${method} ${pattern}`, route);
      return;
    }
    const src = pattern
      .split(/(\{[^}]+\})/)
      .map((p) => (p.startsWith('{') ? (p.includes(':.*') ? '(.+)' : '([^/]+)') : p.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
      .join('');
    const list = this.#dynamic.get(method) ?? [];
    list.push({ re: new RegExp(`^${src}$`), route });
    this.#dynamic.set(method, list);
  }

  get(p: string, h: Handler): void { this.add('GET', p, { handler: h }); }
  post(p: string, h: Handler): void { this.add('POST', p, { handler: h }); }
  delete(p: string, h: Handler): void { this.add('DELETE', p, { handler: h }); }
  head(p: string, h: Handler): void { this.add('HEAD', p, { handler: h }); }
  put(p: string, h: Handler): void { this.add('PUT', p, { handler: h }); }
  hijack(method: string, p: string, h: HijackHandler): void { this.add(method, p, { hijack: h }); }

  match(method: string, path: string): { route: Route; params: string[] } | undefined {
    const r = this.#matchOne(method, path);
    return r ?? (method === 'HEAD' ? this.#matchOne('GET', path) : undefined);
  }

  #matchOne(method: string, path: string): { route: Route; params: string[] } | undefined {
    const s = this.#static.get(`${method} ${path}`);
    if (s) return { route: s, params: [] };
    const list = this.#dynamic.get(method);
    if (!list) return undefined;
    for (const d of list) {
      const m = d.re.exec(path);
      if (m) {
        const params: string[] = [];
        for (let i = 1; i < m.length; i++) params.push(m[i]!);
        return { route: d.route, params };
      }
    }
    return undefined;
  }
}
