// What signing out would cost, told before it happens: the changes still in the outbox (they go
// with the wipe) and, offline, that signing back in needs a network. Signing out never discards
// the outbox unless the person saw the number and chose to.
import type { AppDB } from '../db/db';

export interface SignOutRisk {
  /** mutations not yet on the server */
  pending: number;
  /** no network: after signing out nobody can sign in on this device until there is one */
  offline: boolean;
}

export async function signOutRisk(db: AppDB, online: boolean): Promise<SignOutRisk> {
  return { pending: await db.count('outbox'), offline: !online };
}

/** Whether signing out must ask first. */
export function mustAsk(risk: SignOutRisk): boolean {
  return risk.pending > 0 || risk.offline;
}

/** Thrown by a sign-out that would drop queued changes without the person's say-so. */
export class PendingChangesError extends Error {
  constructor(readonly pending: number) {
    super(`${pending} changes are not on the server yet`);
    this.name = 'PendingChangesError';
  }
}

/**
 * Check a sign-out about to wipe the device: `discard` is the number of changes the person agreed
 * to lose. More waiting than that (a change made meanwhile) stops it.
 */
export async function guardSignOut(db: AppDB, discard: number): Promise<void> {
  const pending = await db.count('outbox');
  if (pending > discard) throw new PendingChangesError(pending);
}
