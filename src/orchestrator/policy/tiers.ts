// Tiers: guests grouped by their `order`. Start goes up the tiers and stop down them; the default tier (guests
// without an order) comes after every ordered tier at start and before them at stop, as Proxmox does. Inside a tier
// the guests keep the order they were given in (virsh's list order at stop, the list file's at start).

export interface Tier<T> {
  /** null: the default tier */
  order: number | null;
  members: T[];
}

/** the tiers in turn: ascending with the default tier last (start), or descending with it first (stop) */
function inTurn<T>(items: readonly T[], orderOf: (item: T) => number | null, turn: 'start' | 'stop'): Tier<T>[] {
  const tiers = new Map<number | null, T[]>();
  for (const item of items) {
    const order = orderOf(item);
    const members = tiers.get(order);
    // pushed, not copied: one tier may hold every guest of a large host
    if (members) members.push(item);
    else tiers.set(order, [item]);
  }
  const ordered = [...tiers.keys()].filter((o): o is number => o !== null).sort((a, b) => (turn === 'start' ? a - b : b - a));
  const defaultTier = tiers.has(null) ? [null] : [];
  const keys = turn === 'start' ? [...ordered, ...defaultTier] : [...defaultTier, ...ordered];
  return keys.map((order) => ({ order, members: tiers.get(order)! }));
}

export const startTiers = <T>(items: readonly T[], orderOf: (item: T) => number | null): Tier<T>[] => inTurn(items, orderOf, 'start');

export const stopTiers = <T>(items: readonly T[], orderOf: (item: T) => number | null): Tier<T>[] => inTurn(items, orderOf, 'stop');
