// A NOTIFY_SOCKET for tests: a unix datagram socket (Node has none, so a small python3 receiver) that records every
// message with the pid in its sender credentials, the pid systemd would attribute the message to. Like systemd it
// answers systemd-notify's barrier (BARRIER=1 with a file descriptor, closed once the messages before it are read).
import { spawn, execFileSync } from 'node:child_process';
import path from 'node:path';
import { waitFor } from './guestd.js';

export interface NotifyMessage {
  pid: number | null;
  /** whether that process still lived (and was no zombie) when the message was read */
  alive: boolean;
  /** the assignments, one per entry: ["STATUS=…", "EXTEND_TIMEOUT_USEC=…"] */
  fields: string[];
}

export interface NotifySocket {
  path: string;
  messages: NotifyMessage[];
  close(): void;
}

const RECEIVER = `
import json, os, socket, struct, sys, time
delay = float(sys.argv[2])
def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(sys.argv[1])
print(json.dumps({"ready": True}), flush=True)
while True:
    time.sleep(delay)
    data, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(12) + socket.CMSG_SPACE(64))
    pid = None
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", payload[:12])[0]
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            for fd in struct.unpack("%di" % (len(payload) // 4), payload[: len(payload) // 4 * 4]):
                os.close(fd)
    fields = [f for f in data.decode().split("\\n") if f]
    if fields != ["BARRIER=1"]:
        print(json.dumps({"pid": pid, "alive": pid is not None and alive(pid), "fields": fields}), flush=True)
`;

/** Why a notify socket cannot be made here, or null. */
export function notifyPrerequisite(): string | null {
  for (const tool of ['python3', 'systemd-notify']) {
    try {
      execFileSync(tool, ['--version'], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed`;
    }
  }
  return null;
}

let made = 0;

/** `readDelayMs`: a slow reader, as a busy systemd is; a sender that does not wait for its message is gone by then */
export async function notifySocket(dir: string, readDelayMs = 0): Promise<NotifySocket> {
  const socketPath = path.join(dir, `notify-${++made}.sock`);
  const receiver = spawn('python3', ['-c', RECEIVER, socketPath, String(readDelayMs / 1000)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages: NotifyMessage[] = [];
  let ready = false;
  let pending = '';
  receiver.stdout.on('data', (d: Buffer) => {
    pending += d.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      const value = JSON.parse(line) as NotifyMessage & { ready?: boolean };
      if (value.ready) ready = true;
      else messages.push(value);
    }
  });
  await waitFor('the notify receiver', () => ready);
  return { path: socketPath, messages, close: () => receiver.kill() };
}
