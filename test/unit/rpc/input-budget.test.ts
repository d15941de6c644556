import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputBudget } from '../../../src/rpc/input-budget.js';

describe('InputBudget', () => {
  it('lets every connection hold its allowance, and more only while the budget has room', () => {
    const budget = new InputBudget(100, undefined, 10);
    const woken: string[] = [];
    const a = budget.open(() => woken.push('a'));
    const b = budget.open(() => woken.push('b'));
    assert.equal(a.hold(90), true, 'within the budget');
    assert.equal(b.hold(10), true, 'within the allowance, even with the budget full');
    assert.equal(b.hold(20), false, 'beyond the allowance with the budget used up');
    assert.equal(budget.held, 110);
    assert.equal(budget.waitingCount, 1);
    assert.deepEqual(woken, []);
    a.hold(50); // a's message completed in part: room again
    assert.deepEqual(woken, ['b']);
    assert.equal(budget.waitingCount, 0);
    assert.equal(b.hold(40), true);
  });

  it('gives everything back when a connection closes, wakes the waiting, and reports what was given back', () => {
    const released: number[] = [];
    const budget = new InputBudget(100, (bytes) => released.push(bytes), 10);
    let woken = 0;
    const a = budget.open(() => undefined);
    const b = budget.open(() => woken++);
    a.hold(150);
    assert.equal(b.hold(30), false);
    a.close();
    assert.equal(woken, 1);
    assert.equal(budget.held, 30);
    b.hold(0);
    assert.deepEqual(released, [150, 30]);
    assert.equal(a.hold(5), false, 'a closed account holds nothing more');
    assert.equal(budget.held, 0);
  });
});
