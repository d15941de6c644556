// What guestd remembers about one client connection.
interface EventCallback {
  eventID: number;
  /** only events of this domain, or of every domain when null */
  uuid: string | null;
}

export interface ClientState {
  opened: boolean;
  /** the socket is the read-only one (or the client opened with VIR_CONNECT_RO) */
  readonly: boolean;
  uri: string | null;
  callbacks: Map<number, EventCallback>;
  nextCallbackId: number;
  /**
   * libvirt's close callbacks: what ends when this connection closes, by domain uuid (a migration in that this
   * client prepared and has not finished)
   */
  closeCallbacks: Map<string, () => Promise<void>>;
}

export function newClientState(readonly: boolean): ClientState {
  return { opened: false, readonly, uri: null, callbacks: new Map(), nextCallbackId: 1, closeCallbacks: new Map() };
}
