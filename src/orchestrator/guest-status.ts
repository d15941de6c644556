// `gueststatus`: the running guests of every URI. A URI that cannot be reached makes the command exit 1 (the
// original printed an empty line and exited 0, because its exit status was lost in a pipeline).
import { EXIT } from '../errors.js';
import type { GuestsConfig } from '../config/variables.js';
import type { GuestStatusResult } from './result.js';
import { errorText, type Services } from './services.js';

const XEN_DOM0 = '00000000-0000-0000-0000-000000000000';

export async function guestStatus(config: GuestsConfig, services: Services): Promise<GuestStatusResult> {
  const uris = await Promise.all(
    config.URIS.map(async (uri) => {
      try {
        const conn = await services.connect(uri, { readonly: true });
        try {
          const guests = (await conn.listGuests({ which: 'active' }))
            .filter((g) => g.uuid !== XEN_DOM0)
            .map((g) => ({ id: g.id, name: g.name, uuid: g.uuid, state: g.state, persistent: g.persistent }));
          return { uri, reachable: true, guests };
        } finally {
          await conn.close().catch(() => undefined);
        }
      } catch (err) {
        services.report({ kind: 'connect-failed', uri, error: errorText(err) });
        return { uri, reachable: false, error: errorText(err), guests: [] };
      }
    }),
  );
  return { command: 'gueststatus', exit: uris.every((u) => u.reachable) ? EXIT.OK : EXIT.FAILURE, uris };
}
