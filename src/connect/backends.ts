// The names of the ways to talk to a host, apart from the code that opens connections: the command line's flag
// takes them at every start, the connection code only when a command acts.

/** how to talk to a host: the native client when it can reach the target (auto), or always one of the two */
export const BACKENDS = ['auto', 'native', 'virsh'] as const;
export type Backend = (typeof BACKENDS)[number];
