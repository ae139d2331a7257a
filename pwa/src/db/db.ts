// The device's database. Screens read only from here; sync fills it; every change goes through
// the outbox. The schema is versioned: add a step to `upgrade` for each new version, never edit
// an old one, so an installed app carries its queued changes across any update.
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import type { Account, Contact, Holding, Note, TimelineItem, AccountRef } from '../api/types';
import type { Mutation } from '../sync/mutations';

export const DB_NAME = 'fieldcrm';
export const DB_VERSION = 1;

/** What a row with local changes carries beside the server's fields. */
export interface LocalState<T> {
  /** true while a queued mutation changes this row. */
  _pending?: boolean;
  /** The server's copy from before the first queued change (null: the row was made here). */
  _base?: T | null;
  /** Deleted here, waiting for the server. */
  _deleted?: boolean;
}

export type LocalAccount = Account & LocalState<Account> & { /** lower-cased name, code and contact names */ _s: string };
export type LocalContact = Contact & LocalState<Contact>;
export type LocalNote = Note & LocalState<Note>;

/** An account's monthly revenue: { "2026-10": cents, … } (one row per account keeps pulls fast). */
export interface RevenueRow {
  accountId: string;
  months: Record<string, number>;
}

export interface RejectedMutation {
  key?: number;
  mutation: Mutation;
  code: string;
  message: string;
  conflicts?: Record<string, { yours: unknown; server: unknown }> | undefined;
  rejectedAt: string;
}

/** What only the server can tell (the audit timeline, group rows out of scope), kept from the last overview. */
export interface AccountExtras {
  accountId: string;
  fetchedAt: string;
  timeline: TimelineItem[];
  parent: AccountRef | null;
  members: AccountRef[];
  memberCount: number;
}

export interface FieldcrmDB extends DBSchema {
  meta: { key: string; value: unknown };
  accounts: { key: string; value: LocalAccount; indexes: { byParent: string } };
  contacts: { key: string; value: LocalContact; indexes: { byAccount: string } };
  holdings: { key: string; value: Holding; indexes: { byAccount: string } };
  notes: { key: string; value: LocalNote; indexes: { byAccount: string } };
  revenue: { key: string; value: RevenueRow };
  outbox: { key: number; value: Mutation };
  rejected: { key: number; value: RejectedMutation };
  extras: { key: string; value: AccountExtras };
}

export type AppDB = IDBPDatabase<FieldcrmDB>;
export type Store = StoreNames<FieldcrmDB>;
export type Tx<S extends Store[] = Store[]> = IDBPTransaction<FieldcrmDB, S, 'readwrite'>;

/** The stores that hold server data (cleared by a reset). */
export const DATA_STORES = ['accounts', 'contacts', 'holdings', 'notes', 'revenue', 'extras'] as const;
export const ALL_STORES = ['meta', ...DATA_STORES, 'outbox', 'rejected'] as const;

export interface OpenOptions {
  name?: string;
  /** Another tab opened a newer version: close and reload. */
  onBlocking?: () => void;
}

export function openAppDb(options: OpenOptions = {}): Promise<AppDB> {
  return openDB<FieldcrmDB>(options.name ?? DB_NAME, DB_VERSION, {
    upgrade(db, oldVersion) {
      if (oldVersion < 1) {
        db.createObjectStore('meta');
        db.createObjectStore('accounts', { keyPath: 'id' }).createIndex('byParent', 'parentId');
        db.createObjectStore('contacts', { keyPath: 'id' }).createIndex('byAccount', 'accountId');
        db.createObjectStore('holdings', { keyPath: 'id' }).createIndex('byAccount', 'accountId');
        db.createObjectStore('notes', { keyPath: 'id' }).createIndex('byAccount', 'accountId');
        db.createObjectStore('revenue', { keyPath: 'accountId' });
        db.createObjectStore('outbox', { keyPath: 'id' });
        db.createObjectStore('rejected', { keyPath: 'key', autoIncrement: true });
        db.createObjectStore('extras', { keyPath: 'accountId' });
      }
      // Version 2 and later: add `if (oldVersion < 2) { … }` here, moving data as needed.
    },
    blocking() {
      options.onBlocking?.();
    },
  });
}

/** Keys of the meta store. */
export const META = {
  clientId: 'clientId',
  cursor: 'cursor',
  inSnapshot: 'inSnapshot',
  nextMutationId: 'nextMutationId',
  lastSyncAt: 'lastSyncAt',
  me: 'me',
  locale: 'locale',
  revenueEnd: 'revenueEnd',
} as const;

export async function getMeta<T>(db: AppDB, key: string): Promise<T | undefined> {
  return (await db.get('meta', key)) as T | undefined;
}

export async function setMeta(db: AppDB, key: string, value: unknown): Promise<void> {
  await db.put('meta', value, key);
}

/** This install's client id, made once (and again only after an explicit sign-out). */
export async function ensureClientId(db: AppDB, make: () => string): Promise<string> {
  const tx = db.transaction('meta', 'readwrite');
  let id = (await tx.store.get(META.clientId)) as string | undefined;
  if (!id) {
    id = make();
    await tx.store.put(id, META.clientId);
  }
  await tx.done;
  return id;
}

/** Forget everything of the signed-in user: data, queue, rejections, cursor; keep the language. */
export async function wipeUserData(db: AppDB, newClientId: string): Promise<void> {
  const tx = db.transaction([...ALL_STORES], 'readwrite');
  const locale = await tx.objectStore('meta').get(META.locale);
  await Promise.all(ALL_STORES.map((name) => tx.objectStore(name).clear()));
  if (locale !== undefined) await tx.objectStore('meta').put(locale, META.locale);
  await tx.objectStore('meta').put(newClientId, META.clientId);
  await tx.done;
}
