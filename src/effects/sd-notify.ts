// sd_notify(3) for a process run by systemd. Node has no unix datagram sockets, so the message is handed to
// systemd-notify(1), which sends it in the name of its parent, i.e. us (root may set the sender's credentials): the
// message is then attributed to this process while it lives, as a main process (guestd, NotifyAccess=main) or as
// the ExecStart/ExecStop process of a oneshot (libvirt-guests, NotifyAccess=exec). No MAINPID= is sent: from an
// ExecStop process it would be a false claim to be the unit's main process. Without NOTIFY_SOCKET nothing is sent;
// without systemd-notify the first failure is reported once and the rest are dropped.
import { execFile } from 'node:child_process';

export interface Supervisor {
  /** STATUS= line shown by `systemctl status` */
  status(text: string): void;
  /** ask for more time before systemd's stop timeout kills us (EXTEND_TIMEOUT_USEC) */
  extendTimeout(ms: number): void;
  /** READY=1 (daemons) */
  ready(text: string): void;
  /** STOPPING=1 (daemons) */
  stopping(): void;
  /**
   * Resolves once every message sent so far has been taken (systemd-notify waits for systemd to read it). A process
   * about to exit waits for this: a message still on its way when its sender is gone is refused.
   */
  settled(): Promise<void>;
}

/**
 * `env` is the process environment: NOTIFY_SOCKET is taken out of it, so that children (guests, virsh) never talk
 * to our supervisor in our name.
 */
export function systemdSupervisor(env: NodeJS.ProcessEnv, warn: (message: string) => void): Supervisor {
  const socket = env.NOTIFY_SOCKET;
  delete env.NOTIFY_SOCKET;
  let broken = false;
  const pending = new Set<Promise<void>>();
  const send = (assignments: string[]): void => {
    if (!socket || broken) return;
    const sent = new Promise<void>((resolve) => {
      execFile('systemd-notify', assignments, { env: { ...env, NOTIFY_SOCKET: socket } }, (error) => {
        if (error && !broken) {
          broken = (error as NodeJS.ErrnoException).code === 'ENOENT';
          warn(`cannot notify systemd (${assignments.join(' ')}): ${error.message}`);
        }
        resolve();
      });
    });
    pending.add(sent);
    void sent.then(() => pending.delete(sent));
  };
  return {
    status: (text) => send([`STATUS=${text}`]),
    extendTimeout: (ms) => send([`EXTEND_TIMEOUT_USEC=${Math.ceil(ms * 1000)}`]),
    ready: (text) => send(['--ready', `STATUS=${text}`]),
    stopping: () => send(['STOPPING=1']),
    settled: async () => {
      await Promise.all([...pending]);
    },
  };
}
