// What a libvirt URI resolves to: where to connect and what name to send in CONNECT_OPEN. Produced by the URI
// resolver (src/connect/resolve.ts), consumed by the native client (src/connect/native.ts).

export type Target =
  | { transport: 'unix'; socketPath: string }
  | { transport: 'tls'; host: string; port: number; caFile: string; certFile: string; keyFile: string };

export interface ResolvedUri {
  /** the URI as the user gave it (or `default` resolved to a concrete URI) */
  original: string;
  /** the URI sent in CONNECT_OPEN: transport and client-side parameters (socket=, no_verify=, …) removed */
  remoteName: string;
  /** null when the native client cannot speak this transport (ssh, sasl, …): use the virsh backend */
  target: Target | null;
  /** why the native client cannot be used, when target is null */
  virshReason?: string;
  readonly: boolean;
}
