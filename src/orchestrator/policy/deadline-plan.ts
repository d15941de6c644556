// STOP_DEADLINE over tiers: before acting, the time is divided so that every tier gets its turn and the stop ends by
// the deadline. A tier gets what its guests need (their longest timeout) or a fair share of what is left (what is
// left over the tiers still to go), whichever is smaller; the last seconds are kept for the fallback (aborting saves
// still running, powering guests off) so that every guest is handled by the deadline. At run time each tier's
// budget is computed again from the time really left, so a tier that ends early leaves its time to the others.

export interface TierNeed {
  /** null: the default tier */
  order: number | null;
  /** seconds the tier's guests may take (their longest timeout); null: no limit of their own */
  needSeconds: number | null;
}

export interface TierBudget {
  order: number | null;
  budgetMs: number;
}

/** Seconds kept at the end for the fallback: a tenth of the deadline, 1 to 10 s. */
export function reserveMs(deadlineSeconds: number): number {
  return Math.round(Math.min(10, Math.max(1, deadlineSeconds / 10)) * 1000);
}

/** The budget of the next tier, from the time left (reserve excluded) and the tiers still to go (this one included). */
export function tierBudgetMs(leftMs: number, tiersToGo: number, needSeconds: number | null): number {
  const fair = Math.max(0, leftMs) / Math.max(1, tiersToGo);
  const need = needSeconds === null || needSeconds === 0 ? Infinity : needSeconds * 1000;
  return Math.floor(Math.min(fair, need));
}

/** The plan printed before acting: every tier assumed to use all of its budget. */
export function planDeadline(deadlineSeconds: number, tiers: readonly TierNeed[]): { reserveMs: number; tiers: TierBudget[] } {
  const reserve = reserveMs(deadlineSeconds);
  let left = deadlineSeconds * 1000 - reserve;
  const out: TierBudget[] = [];
  tiers.forEach((t, i) => {
    const budgetMs = tierBudgetMs(left, tiers.length - i, t.needSeconds);
    out.push({ order: t.order, budgetMs });
    left -= budgetMs;
  });
  return { reserveMs: reserve, tiers: out };
}
