// Broken peers for socket tests.
import net from 'node:net';

/** the first line a server sends on a new connection (the guest monitor's greeting) */
export function firstLine(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(path);
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      s.destroy();
      resolve(buf.slice(0, nl));
    });
    s.on('error', reject);
  });
}

/**
 * Connect to a server that greets, never read, and close: the greeting left unread makes the kernel report
 * ECONNRESET to the server. A second, reading connection tells when the first one's greeting has been sent (the
 * server accepts in order).
 */
export async function resetConnection(path: string): Promise<void> {
  const silent = net.connect(path);
  silent.pause(); // before connecting: nothing is ever read
  silent.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    silent.once('connect', resolve);
    silent.once('error', reject);
  });
  await firstLine(path);
  silent.destroy();
}
