// The bytes a server holds for messages it has not finished receiving (or not yet handed to a handler), counted
// over all its connections against one budget. Memory grows only with bytes actually received, never with the
// length a frame header announces. Each connection may always hold a small allowance, so ordinary calls never
// wait; beyond it, a connection keeps reading only while the budget has room, and otherwise stops reading until
// another connection's messages complete or it closes. Total held ≤ budget + connections × (allowance + one read).

/** bytes every connection may hold whatever the budget: libvirt's initial message buffer (VIR_NET_MESSAGE_INITIAL) */
export const INPUT_ALLOWANCE = 65536;

export class InputBudget {
  private used = 0;
  private readonly waiting = new Set<InputAccount>();

  /** `onReleased(bytes)` runs whenever connections give bytes back (their buffers are garbage from then on) */
  constructor(
    readonly capacity: number,
    private readonly onReleased?: (bytes: number) => void,
    readonly allowance = INPUT_ALLOWANCE,
  ) {}

  /** bytes held by every connection together */
  get held(): number {
    return this.used;
  }

  /** connections not reading because the budget is used up */
  get waitingCount(): number {
    return this.waiting.size;
  }

  open(onRoom: () => void): InputAccount {
    return new InputAccount(this, onRoom);
  }

  /** @internal */
  change(delta: number): void {
    this.used += delta;
    if (delta >= 0) return;
    this.onReleased?.(-delta);
    this.wake();
  }

  /** @internal */
  mayRead(held: number): boolean {
    return held <= this.allowance || this.used <= this.capacity;
  }

  /** @internal */
  wait(account: InputAccount): void {
    this.waiting.add(account);
  }

  /** @internal */
  forget(account: InputAccount): void {
    this.waiting.delete(account);
  }

  private wake(): void {
    for (const account of this.waiting) {
      if (this.used > this.capacity) return;
      this.waiting.delete(account);
      account.wake();
    }
  }
}

/** One connection's share of the budget. */
export class InputAccount {
  private held = 0;
  private closed = false;

  constructor(
    private readonly budget: InputBudget,
    private readonly onRoom: () => void,
  ) {}

  /**
   * Record how many bytes the connection holds now. Returns whether it may read more; when it may not, `onRoom`
   * is called once the budget has room again.
   */
  hold(bytes: number): boolean {
    if (this.closed) return false;
    this.budget.change(bytes - this.held);
    this.held = bytes;
    if (this.budget.mayRead(bytes)) {
      this.budget.forget(this);
      return true;
    }
    this.budget.wait(this);
    return false;
  }

  /** The connection is gone: give back everything it held. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.budget.forget(this);
    this.budget.change(-this.held);
    this.held = 0;
  }

  /** @internal */
  wake(): void {
    if (!this.closed) this.onRoom();
  }
}
