// The semaphore of a parallel shutdown: at most N held, given on in order, and a waiter that gives up (the budget
// expired) never holds one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Slots } from '../../../src/orchestrator/slots.js';

test('at most N held; a released slot goes to the longest waiter', async () => {
  const slots = new Slots(2);
  const got: string[] = [];
  const take = (name: string): Promise<void> => slots.acquire().then((ok) => void got.push(`${name}:${ok}`));
  const all = [take('a'), take('b'), take('c'), take('d')];
  await Promise.resolve();
  assert.deepEqual(got, ['a:true', 'b:true']);
  slots.release();
  await Promise.resolve();
  assert.deepEqual(got, ['a:true', 'b:true', 'c:true']);
  slots.release();
  await Promise.all(all);
  assert.deepEqual(got, ['a:true', 'b:true', 'c:true', 'd:true']);
});

test('a waiter whose signal aborts gets false, holds nothing, and loses its place', async () => {
  const slots = new Slots(1);
  assert.equal(await slots.acquire(), true);
  const ac = new AbortController();
  const giving = slots.acquire(ac.signal);
  const next = slots.acquire();
  ac.abort();
  assert.equal(await giving, false);
  slots.release();
  assert.equal(await next, true, 'the slot went to the next waiter, not to the one that gave up');
  const late = new AbortController();
  late.abort();
  assert.equal(await slots.acquire(late.signal), false, 'an aborted signal never waits');
  slots.release();
  assert.equal(await slots.acquire(late.signal), true, 'a free slot is taken even so');
});

test('a size below 1 means one at a time (PARALLEL_SHUTDOWN=0 or 1)', async () => {
  const slots = new Slots(0);
  assert.equal(await slots.acquire(), true);
  let second = false;
  void slots.acquire().then(() => (second = true));
  await Promise.resolve();
  assert.equal(second, false);
});
