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
}

export function newClientState(readonly: boolean): ClientState {
  return { opened: false, readonly, uri: null, callbacks: new Map(), nextCallbackId: 1 };
}
