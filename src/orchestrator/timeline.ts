// When each guest's action began and ended, for the JSON result: the order that really happened, visible to an
// admin and to tests. Taken from the events as they are reported: the first `guest-begin` of a guest, its `guest-end`.
import type { Services } from './services.js';

export function withTimeline(services: Services): Services {
  const began = new Map<string, number>();
  const iso = (ms: number): string => new Date(ms).toISOString();
  return {
    ...services,
    report: (event) => {
      const now = services.clock.now();
      if (event.kind === 'guest-begin') {
        const key = `${event.uri} ${event.guest.uuid}`;
        if (!began.has(key)) began.set(key, now);
      } else if (event.kind === 'guest-end' && event.result.outcome !== 'planned') {
        const r = event.result;
        r.began = iso(began.get(`${r.uri} ${r.uuid}`) ?? now - r.durationMs);
        r.ended = iso(now);
      }
      services.report(event);
    },
  };
}
