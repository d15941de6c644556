// virsh reports errors as text only (`error: <message>` on stderr). libvirt builds each message as
// "<text of the error code>: <detail>", so the prefix gives back the numeric code (virerror.c's table).
import { LibvirtError, VirErr, VirFrom } from '../libvirt/error.js';

/** VIR_ERR_SYSTEM_ERROR: a system call failed, e.g. the socket could not be reached. */
export const SYSTEM_ERROR = 38;

/** Message prefixes from libvirt's virErrorMsg, longest first where one is a prefix of another. */
const PREFIXES: ReadonlyArray<[string, number]> = [
  ['internal error', VirErr.INTERNAL_ERROR],
  ['this function is not supported by the connection driver', VirErr.NO_SUPPORT],
  ['invalid argument', VirErr.INVALID_ARG],
  ['operation failed', VirErr.OPERATION_FAILED],
  ['XML error', VirErr.XML_ERROR],
  ['operation forbidden', VirErr.OPERATION_DENIED],
  ['Requested operation is not valid', VirErr.OPERATION_INVALID],
  ['Domain not found', VirErr.NO_DOMAIN],
  ['authentication failed', VirErr.AUTH_FAILED],
  ['unsupported configuration', VirErr.CONFIG_UNSUPPORTED],
  ['Timed out during operation', VirErr.OPERATION_TIMEOUT],
  ['argument unsupported', VirErr.ARGUMENT_UNSUPPORTED],
  ['operation aborted', VirErr.OPERATION_ABORTED],
  ['metadata not found', VirErr.NO_DOMAIN_METADATA],
  ['Operation not supported', VirErr.OPERATION_UNSUPPORTED],
  ['Guest agent is not responding', VirErr.AGENT_UNRESPONSIVE],
  ['access denied', VirErr.ACCESS_DENIED],
  ['RPC error', VirErr.RPC],
];

/** virsh's own messages (not from the library) that still mean a libvirt error code. */
const VIRSH_MESSAGES: ReadonlyArray<[RegExp, number]> = [
  [/^failed to get domain '/, VirErr.NO_DOMAIN],
  [/^Domain '.*' (is already active|is not running)/, VirErr.OPERATION_INVALID],
  [/^Domain is already active/, VirErr.OPERATION_INVALID],
  [/^failed to connect to the hypervisor/, SYSTEM_ERROR],
  [/^Failed to connect socket to /, SYSTEM_ERROR],
  [/^Disconnected from .* due to keepalive timeout/, VirErr.RPC],
  [/^(internal error: )?connection closed due to keepalive timeout/, VirErr.RPC],
];

/** The `error: …` lines of virsh's stderr, without the prefix. */
export function errorLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.startsWith('error: '))
    .map((l) => l.slice('error: '.length));
}

/**
 * The LibvirtError for a failed virsh command. virsh prints its own summary line ("Failed to start domain 'x'")
 * and then the library's message; the most specific line (one with a known prefix) decides the code.
 */
export function virshError(stderr: string, command: string, exitCode: number | undefined): LibvirtError {
  const lines = errorLines(stderr);
  // The library's message (known prefix) is more specific than virsh's own lines.
  const decisive = lines.find((l) => libraryCode(l) !== undefined) ?? lines.find((l) => virshCode(l) !== undefined);
  const code = decisive === undefined ? undefined : (libraryCode(decisive) ?? virshCode(decisive));
  const text = lines.length ? lines.join(': ') : stderr.trim() || `virsh ${command} failed with exit code ${exitCode ?? 'unknown'}`;
  const message = decisive && lines.length > 1 ? `${decisive} (virsh: ${lines.filter((l) => l !== decisive).join('; ')})` : text;
  return new LibvirtError(code ?? VirErr.INTERNAL_ERROR, VirFrom.NONE, message, {
    hint: code === SYSTEM_ERROR ? 'check that the daemon runs and that you may open its socket (root or the socket group)' : undefined,
  });
}

function libraryCode(line: string): number | undefined {
  for (const [prefix, code] of PREFIXES) {
    if (line === prefix || line.startsWith(`${prefix}: `)) return code;
  }
  return undefined;
}

function virshCode(line: string): number | undefined {
  return VIRSH_MESSAGES.find(([re]) => re.test(line))?.[1];
}
