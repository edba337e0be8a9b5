/** The daemon's event bus: a bounded ring for since/until replay, and live subscribers with Docker's filters. */
import type { EngineEvent } from './backend.ts';
import { nowNanos } from './time.ts';

const RING = 1024;

export type EventFilters = Record<string, string[]>;

function matchImage(e: EngineEvent, want: string): boolean {
  const strip = (s: string) => s.replace(/:latest$/, '');
  const cands = e.Type === 'image' ? [e.Actor.ID, e.Actor.Attributes.name ?? ''] : [e.Actor.Attributes.image ?? ''];
  return cands.some((c) => c !== '' && (c === want || strip(c) === strip(want) || (want.length >= 12 && c.replace(/^sha256:/, '').startsWith(want.replace(/^sha256:/, '')))));
}

function matchLabel(e: EngineEvent, want: string): boolean {
  const i = want.indexOf('=');
  if (i < 0) return want in e.Actor.Attributes;
  return e.Actor.Attributes[want.slice(0, i)] === want.slice(i + 1);
}

/** Does event e pass Docker's /events filters (values of one key are OR'ed, keys AND'ed)? */
export function eventMatches(e: EngineEvent, f: EventFilters): boolean {
  for (const [key, vals] of Object.entries(f)) {
    if (!vals.length) continue;
    let ok: boolean;
    switch (key) {
      case 'type': ok = vals.includes(e.Type); break;
      case 'event': ok = vals.some((v) => e.Action === v || e.Action.startsWith(`${v}:`)); break;
      case 'container':
        ok = e.Type === 'container' && vals.some((v) => e.Actor.ID === v || e.Actor.ID.startsWith(v) || e.Actor.Attributes.name === v);
        break;
      case 'image': ok = vals.some((v) => matchImage(e, v)); break;
      case 'label': ok = vals.every((v) => matchLabel(e, v)); break;
      case 'volume': case 'network': case 'daemon':
        ok = e.Type === key && vals.some((v) => e.Actor.ID === v || e.Actor.Attributes.name === v);
        break;
      case 'scope': ok = vals.includes(e.scope); break;
      default: ok = true;
    }
    if (!ok) return false;
  }
  return true;
}

export class EventBus {
  #ring: EngineEvent[] = [];
  #subs = new Set<(e: EngineEvent) => void>();

  emit(type: EngineEvent['Type'], action: string, id: string, attributes: Record<string, string>): EngineEvent {
    const ns = nowNanos();
    const e: EngineEvent = {
      Type: type, Action: action, Actor: { ID: id, Attributes: attributes }, scope: 'local',
      time: Number(ns / 1_000_000_000n), timeNano: Number(ns),
    };
    this.#ring.push(e);
    if (this.#ring.length > RING) this.#ring.shift();
    for (const s of this.#subs) {
      try { s(e); } catch { /* a subscriber's failure is its own */ }
    }
    return e;
  }

  /** Replay ring events in [since, until] (unix seconds), then, unless until is past, deliver live ones. */
  subscribe(opts: { since?: number; until?: number; filters: EventFilters }, cb: (e: EngineEvent) => void): () => void {
    const sinceNs = opts.since !== undefined ? opts.since * 1e9 : undefined;
    const untilNs = opts.until !== undefined ? opts.until * 1e9 : undefined;
    const want = (e: EngineEvent) =>
      (sinceNs === undefined || e.timeNano >= sinceNs) && (untilNs === undefined || e.timeNano <= untilNs) && eventMatches(e, opts.filters);
    if (sinceNs !== undefined) for (const e of this.#ring.slice()) if (want(e)) cb(e);
    if (untilNs !== undefined && untilNs < Date.now() * 1e6) return () => {};
    const sub = (e: EngineEvent) => { if (want(e)) cb(e); };
    this.#subs.add(sub);
    return () => { this.#subs.delete(sub); };
  }
}
