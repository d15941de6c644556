// The guest's clock: host time plus drift while it runs, frozen while the guest is paused or saved. After a
// restore it resumes from the saved instant, so it is behind until set-time (domtime --sync).

export type HostClock = () => bigint; // nanoseconds since the epoch

export const hostNowNs: HostClock = () => BigInt(Date.now()) * 1_000_000n;

export class GuestClock {
  private baseGuest: bigint;
  private baseHost: bigint;
  private frozenAt: bigint | null = null;

  constructor(
    private readonly host: HostClock,
    startGuestNs: bigint,
    private readonly driftPpm: number,
    /** frozen at `startGuestNs` from the start (a guest that comes up paused) */
    frozen = false,
  ) {
    this.baseGuest = startGuestNs;
    this.baseHost = host();
    if (frozen) this.frozenAt = startGuestNs;
  }

  now(): bigint {
    if (this.frozenAt !== null) return this.frozenAt;
    const elapsed = this.host() - this.baseHost;
    const drift = (elapsed * BigInt(Math.round(this.driftPpm * 1000))) / 1_000_000_000n;
    return this.baseGuest + elapsed + drift;
  }

  set(guestNs: bigint): void {
    this.baseGuest = guestNs;
    this.baseHost = this.host();
    if (this.frozenAt !== null) this.frozenAt = guestNs;
  }

  freeze(): bigint {
    this.frozenAt ??= this.now();
    return this.frozenAt;
  }

  thaw(): void {
    if (this.frozenAt === null) return;
    this.set(this.frozenAt);
    this.frozenAt = null;
  }
}
