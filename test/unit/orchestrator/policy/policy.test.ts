// The per-guest policy as pure logic: the metadata element parsed and written, the effective value of each
// attribute with its source, the tiers in start and stop order, and STOP_DEADLINE divided over the tiers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { effectivePolicy } from '../../../../src/orchestrator/policy/effective.js';
import { formatPolicy, mergePolicy, parsePolicy, POLICY_NAMESPACE } from '../../../../src/orchestrator/policy/metadata.js';
import { planDeadline, reserveMs, tierBudgetMs } from '../../../../src/orchestrator/policy/deadline-plan.js';
import { startTiers, stopTiers } from '../../../../src/orchestrator/policy/tiers.js';
import { guestsConfig } from '../../../helpers/fake-host.js';

test('parses the element as libvirt returns it, with or without the prefix', () => {
  const withPrefix = `<lgt:policy xmlns:lgt="${POLICY_NAMESPACE}" order="10" on-shutdown="shutdown" shutdown-timeout="30" ready="agent" ready-timeout="20" start-delay="2" on-boot="ignore"/>`;
  assert.deepEqual(parsePolicy(withPrefix), {
    values: { order: 10, 'on-shutdown': 'shutdown', 'shutdown-timeout': 30, ready: 'agent', 'ready-timeout': 20, 'start-delay': 2, 'on-boot': 'ignore' },
    problems: [],
  });
  assert.deepEqual(parsePolicy(`<policy xmlns="${POLICY_NAMESPACE}" order="-3"/>`), { values: { order: -3 }, problems: [] });
  assert.deepEqual(parsePolicy(null), { values: {}, problems: [] });
});

test('a bad value or an unknown attribute is a problem of that value only; the rest applies', () => {
  const parsed = parsePolicy('<policy order="x1" on-shutdown="hibernate" ordr="3" ready="agent" shutdown-timeout="-1"/>');
  assert.deepEqual(parsed.values, { ready: 'agent' });
  assert.equal(parsed.problems.length, 4);
  assert.match(parsed.problems.join('\n'), /order="x1" is not valid \(allowed: a whole number/);
  assert.match(parsed.problems.join('\n'), /on-shutdown="hibernate" is not valid \(allowed: suspend, shutdown, destroy, migrate, ignore\)/);
  assert.match(parsed.problems.join('\n'), /unknown policy attribute "ordr" \(did you mean "order"\?\)/);
  assert.match(parsed.problems.join('\n'), /shutdown-timeout="-1"/);
});

test('malformed XML or another element: the whole policy is ignored, with the reason', () => {
  assert.match(parsePolicy('<policy order="1"').problems[0]!, /not well-formed XML/);
  assert.match(parsePolicy('<startup order="1"/>').problems[0]!, /must be one <policy> element, found <startup>/);
  assert.deepEqual(parsePolicy('<startup order="1"/>').values, {});
});

test('format and merge: what set and unset store', () => {
  assert.equal(formatPolicy({ 'on-shutdown': 'destroy', order: 2 }), '<policy order="2" on-shutdown="destroy"/>');
  assert.equal(formatPolicy({}), null);
  const merged = mergePolicy({ order: 2, ready: 'agent' }, { order: undefined, 'start-delay': 5 });
  assert.deepEqual(merged, { ready: 'agent', 'start-delay': 5 });
  assert.deepEqual(parsePolicy(formatPolicy(merged)).values, merged, 'round trip');
});

test('effective values: metadata, else the configuration, else the default; each with its source', () => {
  const config = guestsConfig([], { ON_SHUTDOWN: 'shutdown', SHUTDOWN_TIMEOUT: 45 });
  const eff = effectivePolicy({ order: 5, ready: 'agent' }, config);
  assert.equal(eff.order, 5);
  assert.deepEqual(eff.values, { 'on-shutdown': 'shutdown', 'shutdown-timeout': 45, 'on-boot': 'start', 'start-delay': 0, ready: 'agent', 'ready-timeout': 120 });
  assert.deepEqual(eff.sources, {
    order: 'metadata',
    'on-shutdown': 'config',
    'shutdown-timeout': 'config',
    'on-boot': 'config',
    'start-delay': 'default',
    ready: 'metadata',
    'ready-timeout': 'default',
  });
  assert.equal(eff.variables['on-shutdown'], 'ON_SHUTDOWN');
  assert.equal(effectivePolicy({}, config).order, null, 'no order: the default tier');
});

test('tiers: start ascending with the default tier last, stop descending with it first; members keep their order', () => {
  const guests = [
    { n: 'a', o: null },
    { n: 'b', o: 10 },
    { n: 'c', o: 1 },
    { n: 'd', o: null },
    { n: 'e', o: 10 },
    { n: 'f', o: -2 },
  ];
  const show = (t: { order: number | null; members: { n: string }[] }[]) => t.map((x) => `${x.order}:${x.members.map((m) => m.n).join('')}`);
  assert.deepEqual(show(startTiers(guests, (g) => g.o)), ['-2:f', '1:c', '10:be', 'null:ad']);
  assert.deepEqual(show(stopTiers(guests, (g) => g.o)), ['null:ad', '10:be', '1:c', '-2:f']);
  assert.deepEqual(show(stopTiers([] as { n: string; o: null }[], (g) => g.o)), []);
});

test('deadline plan: a tier gets its need or a fair share of what is left; the reserve is kept for the fallback', () => {
  assert.equal(reserveMs(60), 6000);
  assert.equal(reserveMs(5), 1000);
  assert.equal(reserveMs(600), 10_000);
  // 60 s: 6 s reserve, 54 s over three tiers
  const plan = planDeadline(60, [
    { order: null, needSeconds: 10 },
    { order: 2, needSeconds: 300 },
    { order: 1, needSeconds: null },
  ]);
  assert.equal(plan.reserveMs, 6000);
  // default tier: min(10 s, 54/3 = 18 s) = 10 s; tier 2: min(300 s, 44/2 = 22 s); tier 1: the 22 s left
  assert.deepEqual(plan.tiers, [
    { order: null, budgetMs: 10_000 },
    { order: 2, budgetMs: 22_000 },
    { order: 1, budgetMs: 22_000 },
  ]);
  const total = plan.tiers.reduce((n, t) => n + t.budgetMs, 0) + plan.reserveMs;
  assert.ok(total <= 60_000, 'the plan fits the deadline');
  assert.equal(tierBudgetMs(-5, 2, 10), 0, 'no time left: no budget');
  assert.equal(tierBudgetMs(10_000, 1, 0), 10_000, 'timeout 0 (no limit): the fair share');
});
