// Tiers: guests grouped by their `order`. Start goes up the tiers and stop down them; the default tier (guests
// without an order) comes after every ordered tier at start and before them at stop, as Proxmox does. Inside a tier
// the guests keep the order they were given in (virsh's list order at stop, the list file's at start).

export interface Tier<T> {
  /** null: the default tier */
  order: number | null;
  members: T[];
}

function group<T>(items: readonly T[], orderOf: (item: T) => number | null): Map<number | null, T[]> {
  const tiers = new Map<number | null, T[]>();
  for (const item of items) {
    const order = orderOf(item);
    const members = tiers.get(order);
    if (members) members.push(item);
    else tiers.set(order, [item]);
  }
  return tiers;
}

export function startTiers<T>(items: readonly T[], orderOf: (item: T) => number | null): Tier<T>[] {
  const tiers = group(items, orderOf);
  const ordered = [...tiers.keys()].filter((o): o is number => o !== null).sort((a, b) => a - b);
  const keys: (number | null)[] = [...ordered, ...(tiers.has(null) ? [null] : [])];
  return keys.map((order) => ({ order, members: tiers.get(order)! }));
}

export function stopTiers<T>(items: readonly T[], orderOf: (item: T) => number | null): Tier<T>[] {
  const tiers = group(items, orderOf);
  const ordered = [...tiers.keys()].filter((o): o is number => o !== null).sort((a, b) => b - a);
  const keys: (number | null)[] = [...(tiers.has(null) ? [null] : []), ...ordered];
  return keys.map((order) => ({ order, members: tiers.get(order)! }));
}
