// A small IndexedDB of its own that the page and the service worker share: the CSRF token (a
// service worker cannot read cookies everywhere) and approvals tapped on a notification while
// offline, sent when the network returns. Kept apart from the app's database, whose schema and
// wipe-on-sign-out belong to the sync engine.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';

export interface QueuedDecision {
  /** also the Idempotency-Key: one approval per step, however often it is retried */
  key: string;
  stepId: string;
  url: string;
  title: string;
  lang: string;
  queuedAt: number;
}

interface PushDB extends DBSchema {
  kv: { key: string; value: string };
  decisions: { key: string; value: QueuedDecision };
}

let opening: Promise<IDBPDatabase<PushDB>> | null = null;

function db(): Promise<IDBPDatabase<PushDB>> {
  opening ??= openDB<PushDB>('fieldcrm-push', 1, {
    upgrade(database) {
      database.createObjectStore('kv');
      database.createObjectStore('decisions', { keyPath: 'key' });
    },
  });
  return opening;
}

export async function getValue(key: string): Promise<string | null> {
  return (await (await db()).get('kv', key)) ?? null;
}

export async function setValue(key: string, value: string | null): Promise<void> {
  const database = await db();
  if (value === null) await database.delete('kv', key);
  else await database.put('kv', value, key);
}

export const decisionQueue = {
  async add(decision: QueuedDecision): Promise<void> {
    await (await db()).put('decisions', decision);
  },
  async all(): Promise<QueuedDecision[]> {
    return (await db()).getAll('decisions');
  },
  async remove(key: string): Promise<void> {
    await (await db()).delete('decisions', key);
  },
};

export type DecisionQueue = typeof decisionQueue;
