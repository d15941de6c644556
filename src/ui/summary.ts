// The result of each command as people read it on stdout. Progress and errors went to stderr while it ran, each
// error once: here they are counted, not repeated.
import type { DomainState } from '../libvirt/domain-state.js';
import { stateWord } from '../libvirt/state-words.js';
import type {
  GuestResult,
  GuestStatusResult,
  MigrateResult,
  RestartResult,
  StartResult,
  StopResult,
  UriResult,
} from '../orchestrator/result.js';

function count(guests: GuestResult[], outcome: GuestResult['outcome']): number {
  return guests.filter((g) => g.outcome === outcome).length;
}

function allGuests(uris: UriResult[]): GuestResult[] {
  return uris.flatMap((u) => u.guests);
}

/** each action's verb in a dry run's plan, and the word for a guest it was done to */
const WORDS: Record<Exclude<GuestResult['action'], 'none'>, { verb: string; done: string }> = {
  suspend: { verb: 'suspend', done: 'suspended' },
  shutdown: { verb: 'shut down', done: 'shut down' },
  destroy: { verb: 'power off (destroy)', done: 'powered off' },
  start: { verb: 'resume', done: 'resumed' },
  migrate: { verb: 'migrate', done: 'migrated' },
};
const wordsOf = (action: GuestResult['action']) => (action === 'none' ? undefined : WORDS[action]);

/** `verbs`: the command's own wording of an action (evacuate: "migrate to PEER"), else the action's */
function plan(uris: UriResult[], verbs: Partial<Record<GuestResult['action'], string>> = {}): string {
  const lines = uris.flatMap((u) => {
    if (!u.reachable) return [`${u.uri}: not reached`];
    if (u.guests.length === 0) return [`${u.uri}: nothing to do`];
    return u.guests.map((g) =>
      g.outcome === 'planned' ? `${u.uri}: would ${verbs[g.action] ?? wordsOf(g.action)?.verb ?? g.action} ${g.name || g.uuid} (${g.uuid})${g.tier != null ? ` [tier ${g.tier}]` : ''}` : `${u.uri}: would leave ${g.name || g.uuid} (${g.error ?? g.outcome})`,
    );
  });
  return ['Dry run: nothing was changed.', ...lines].join('\n');
}

/** `main`: the run's action, whose done guests are counted first; others done by their own action follow */
function tally(guests: GuestResult[], done: string, main?: GuestResult['action']): string {
  // a guest whose own policy chose another action than the run's is counted under that action's word
  const own = (g: GuestResult): boolean => main !== undefined && g.action !== main && wordsOf(g.action) !== undefined;
  const parts = [`${guests.filter((g) => g.outcome === 'done' && !own(g)).length} ${done}`];
  const others = new Map<string, number>();
  for (const g of guests) {
    if (g.outcome !== 'done' || !own(g)) continue;
    const word = wordsOf(g.action)!.done;
    others.set(word, (others.get(word) ?? 0) + 1);
  }
  for (const [word, n] of others) parts.push(`${n} ${word}`);
  for (const outcome of ['already-active', 'failed', 'timeout', 'aborted', 'missing', 'skipped'] as const) {
    const n = count(guests, outcome);
    if (n > 0) parts.push(`${n} ${outcome.replace('-', ' ')}`);
  }
  const fallbacks = guests.filter((g) => g.fallback.length > 0).length;
  if (fallbacks > 0) parts.push(`${fallbacks} through a fallback`);
  return parts.join(', ');
}

function unreached(uris: UriResult[]): string {
  const n = uris.filter((u) => !u.reachable).length;
  return n > 0 ? `, ${n} URI${n === 1 ? '' : 's'} not reached` : '';
}

/** The tiers when there are several, with their share of STOP_DEADLINE (and the time used) when planned. */
function tierLines(r: StopResult | StartResult): string[] {
  if (r.tiers.length < 2 && !('deadlineReserveMs' in r && r.deadlineReserveMs !== undefined)) return [];
  const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  const lines = r.tiers.map((t) => {
    const name = t.order === null ? 'default tier' : `tier ${t.order}`;
    const budget = t.budgetMs === null ? '' : `, budget ${s(t.budgetMs)}`;
    const used = t.usedMs === undefined ? '' : `, took ${s(t.usedMs)}`;
    return `  ${name}: ${t.guests} guest${t.guests === 1 ? '' : 's'}${budget}${used}`;
  });
  const reserve = 'deadlineReserveMs' in r && r.deadlineReserveMs !== undefined ? [`  kept for the fallback: ${s(r.deadlineReserveMs)}`] : [];
  return ['Tiers, in order:', ...lines, ...reserve];
}

export function renderStop(r: StopResult): string {
  if (r.dryRun) return [plan(r.uris), ...tierLines(r)].join('\n');
  const guests = allGuests(r.uris);
  const head = `${r.command}: ${tally(guests, WORDS[r.action].done, r.action)}${unreached(r.uris)}${r.deadlineExpired ? ' (stop deadline expired)' : ''}`;
  const carried = r.carriedOver > 0 ? [`${r.carriedOver} guests from an earlier stop were kept in ${r.listFile}`] : [];
  const unlisted = r.listError !== undefined ? ['the guests could not be recorded for start: start will not bring them back'] : [];
  return [head, ...carried, ...unlisted, ...tierLines(r)].join('\n');
}

export function renderStart(r: StartResult): string {
  if (r.skippedReason === 'no-list') return 'start: no saved guests to resume';
  if (r.skippedReason === 'on-boot-ignore') return 'start: ON_BOOT is not "start": no guests resumed, list removed';
  if (r.dryRun) return plan(r.uris);
  const head = `start: ${tally(allGuests(r.uris), 'resumed')}${unreached(r.uris)}`;
  const left = r.remaining > 0 ? [`${r.remaining} guests stay in ${r.listFile} for the next start`] : [];
  return [head, ...left, ...tierLines(r)].join('\n');
}

export function renderMigrate(r: MigrateResult): string {
  if (r.dryRun) return plan(r.uris, { migrate: r.command === 'evacuate' ? `migrate to ${r.to ?? 'the peer'}` : 'bring back' });
  const head = `${r.command}: ${tally(allGuests(r.uris), r.command === 'evacuate' ? `migrated to ${r.to ?? 'the peer'}` : 'back')}${unreached(r.uris)}`;
  const away = r.away > 0 ? [`${r.away} guests are recorded as away in ${r.recordFile} (libvirt-guests return brings them back)`] : [];
  return [head, ...away].join('\n');
}

export function renderRestart(r: RestartResult): string {
  if (!r.ran) return `${r.command}: the service is not started (no lock file): nothing done`;
  return [r.stop ? renderStop(r.stop) : '', r.start ? renderStart(r.start) : ''].filter((s) => s !== '').join('\n');
}

/** As the original: "* URI URI:" then a virsh-like table of the running guests, or an empty line (the error went to
 *  stderr). */
export function renderGuestStatus(r: GuestStatusResult): string {
  return r.uris
    .map((u) => {
      const head = `* ${u.uri} URI:`;
      if (!u.reachable) return `${head}\n`;
      const rows = u.guests.map((g) => ` ${String(g.id).padStart(3)}   ${g.name.padEnd(30)} ${stateWord(g.state as DomainState)}`);
      return [head, ' Id    Name                           State', '-'.repeat(48), ...rows, ''].join('\n');
    })
    .join('\n');
}
