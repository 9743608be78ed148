/**
 * The floors of src/, lowest first. A folder imports only folders on its own floor or below, never in a
 * cycle, and only through their index.ts (docs/architecture.md, "The layer rule").
 */
export const FLOORS = [
  { name: 'kernel', folders: ['errors', 'ids', 'random', 'money', 'config', 'db', 'wire'] },
  { name: 'runtime', folders: ['runtime'] },
  { name: 'rules', folders: ['validation', 'attribution', 'incentives', 'terms', 'judging', 'simulate'] },
  {
    name: 'modules',
    folders: ['ledger', 'tenants', 'idempotency', 'campaigns', 'payments', 'insights', 'tracking', 'fits', 'results', 'bonuses', 'conversions', 'payouts', 'settlement'],
  },
  { name: 'flows', folders: ['flows'] },
  { name: 'doors', folders: ['api', 'server', 'demo', 'cli'] },
] as const;

export type Floor = (typeof FLOORS)[number]['name'];

/** The floor of a top-level folder of src/; undefined for a folder no floor lists. */
export function floorOf(folder: string): { name: Floor; level: number } | undefined {
  const level = FLOORS.findIndex((f) => (f.folders as readonly string[]).includes(folder));
  return level < 0 ? undefined : { name: FLOORS[level]!.name, level };
}
