// Queue a change: the mutation goes into the outbox and the local copy changes in one IndexedDB
// transaction, so the screen can say "saved" only once both are on disk.
import { ALL_STORES, META, type AppDB, type Tx } from '../db/db';
import { applyOptimistic, type Author, type Mutation, type NewMutation } from './mutations';

export function writeTx(db: AppDB): Tx {
  return db.transaction([...ALL_STORES], 'readwrite') as unknown as Tx;
}

export async function enqueue(db: AppDB, change: NewMutation, author: Author | null, now: Date = new Date()): Promise<Mutation> {
  const tx = writeTx(db);
  const meta = tx.objectStore('meta');
  const outbox = tx.objectStore('outbox');
  const next = ((await meta.get(META.nextMutationId)) as number | undefined) ?? 1;
  const last = await outbox.openKeyCursor(null, 'prev');
  const id = Math.max(next, (last?.key ?? 0) + 1);
  const mutation = { id, name: change.name, args: change.args, capturedAt: now.toISOString() } as Mutation;
  await outbox.add(mutation);
  await meta.put(id + 1, META.nextMutationId);
  await applyOptimistic(tx, mutation, author);
  await tx.done;
  return mutation;
}

export async function pendingCount(db: AppDB): Promise<number> {
  return db.count('outbox');
}

export async function rejectedCount(db: AppDB): Promise<number> {
  return db.count('rejected');
}
