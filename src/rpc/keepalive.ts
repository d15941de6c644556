// libvirt's keepalive program ('keep'): PING/PONG messages of type MESSAGE, serial 0, no body. The prober sends
// a PING after `intervalMs` without incoming traffic, then one per interval, and declares the peer dead when
// nothing arrived for interval × (count + 1), as virsh does (measured: 5 s × 7 = 35 s with -k 5 -K 6).
import { encodeMessage, MessageStatus, MessageType } from './message.js';

export const KEEPALIVE_PROGRAM = 0x6b656570;
const KEEPALIVE_VERSION = 1;
export const KeepaliveProc = { PING: 1, PONG: 2 } as const;

export function keepaliveMessage(proc: number): Buffer {
  return encodeMessage({
    prog: KEEPALIVE_PROGRAM,
    vers: KEEPALIVE_VERSION,
    proc,
    type: MessageType.MESSAGE,
    serial: 0,
    status: MessageStatus.OK,
  });
}

export interface KeepaliveOptions {
  intervalMs: number;
  /** PINGs that may go unanswered; the peer is dead after intervalMs × (count + 1) of silence */
  count: number;
}

export class KeepaliveProber {
  private lastRx = Date.now();
  /** PINGs sent since the last incoming message: never more than `count` (a timer that fires a little early must
   * not send one more before the deadline) */
  private unanswered = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: KeepaliveOptions,
    private readonly sendPing: () => void,
    private readonly onDead: (silentMs: number) => void,
    private readonly now: () => number = Date.now,
    /** the silence is ours (we stopped reading): keep pinging, but do not declare the peer dead */
    private readonly excused: () => boolean = () => false,
  ) {}

  start(): void {
    this.lastRx = this.now();
    this.unanswered = 0;
    this.schedule(this.options.intervalMs);
  }

  /** any incoming message counts as a sign of life */
  touch(): void {
    this.lastRx = this.now();
    this.unanswered = 0;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => this.tick(), Math.max(1, ms));
    this.timer.unref();
  }

  private tick(): void {
    const { intervalMs, count } = this.options;
    const silent = this.now() - this.lastRx;
    if (silent < intervalMs) {
      this.schedule(intervalMs - silent);
      return;
    }
    if (silent >= intervalMs * (count + 1) && !this.excused()) {
      this.timer = undefined;
      this.onDead(silent);
      return;
    }
    const excused = this.excused();
    if (this.unanswered >= count && !excused) {
      // every PING allowed is out: wake up at the deadline only
      this.schedule(intervalMs * (count + 1) - silent);
      return;
    }
    this.sendPing();
    if (!excused) this.unanswered++;
    // next wake-up at the next multiple of the interval since the last traffic
    this.schedule(intervalMs - (silent % intervalMs) || intervalMs);
  }
}
