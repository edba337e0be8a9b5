/** `version`: its own module, so that the plain output loads neither the template engine nor the tables. */
import { ApiError, ConnectError, DEFAULT_API_VERSION } from '../../client/index.ts';
import type { VersionInfo } from '../../client/index.ts';
import { CLI_VERSION, type Ctx, type Opts } from '../main.ts';

/** time.ANSIC of an RFC 3339 time (`Thu May  7 21:09:36 2026`); the input when it does not parse. */
export function ansic(s: string | undefined): string {
  if (!s) return '';
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return s;
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

export async function version(ctx: Ctx, _args: string[], o: Opts): Promise<void> {
  const apiVersion = ctx.apiVersion ?? DEFAULT_API_VERSION;
  let server: VersionInfo | undefined;
  let failure: unknown;
  try {
    server = await ctx.client().version_();
  } catch (e) {
    if (!(e instanceof ApiError) && !(e instanceof ConnectError)) throw e;
    failure = e;
  }
  const format = typeof o.format === 'string' ? o.format : undefined;
  if (format) {
    (await import('./system.ts')).formatVersion(ctx, format, apiVersion, server);
  } else {
    const arch = process.arch === 'x64' ? 'amd64' : process.arch;
    let s = `Client:
 Version:           ${CLI_VERSION}
 API version:       ${apiVersion}${apiVersion !== DEFAULT_API_VERSION && !ctx.apiVersion ? ` (downgraded from ${DEFAULT_API_VERSION})` : ''}
 Node version:      ${process.version}
 OS/Arch:           ${process.platform}/${arch}
 Context:           default
 Experimental:      true
`;
    if (server) {
      s += '\nServer:';
      if (server.Platform?.Name) s += ` ${server.Platform.Name}`;
      const comps = server.Components ?? [{ Name: 'Engine', Version: server.Version, Details: { ApiVersion: server.ApiVersion, MinAPIVersion: server.MinAPIVersion ?? '', GitCommit: server.GitCommit, GoVersion: server.GoVersion, Os: server.Os, Arch: server.Arch, BuildTime: server.BuildTime ?? '', Experimental: String(server.Experimental ?? false) } }];
      for (const c of comps) {
        const d = c.Details ?? {};
        s += `\n ${c.Name}:`;
        if (c.Name === 'Engine') {
          s += `\n  Version:          ${c.Version}`;
          s += `\n  API version:      ${d.ApiVersion ?? ''} (minimum version ${d.MinAPIVersion ?? ''})`;
          s += `\n  Go version:       ${d.GoVersion ?? ''}`;
          s += `\n  Git commit:       ${d.GitCommit ?? ''}`;
          s += `\n  Built:            ${ansic(d.BuildTime)}`;
          s += `\n  OS/Arch:          ${d.Os ?? ''}/${d.Arch ?? ''}`;
          s += `\n  Experimental:     ${d.Experimental ?? ''}`;
        } else {
          s += `\n  Version:          ${c.Version}`;
          for (const k of Object.keys(d).sort()) s += `\n  ${`${k}:`.padEnd(17)} ${d[k]}`;
        }
      }
      s += '\n';
    }
    ctx.out(s);
  }
  if (failure) throw failure;
}
