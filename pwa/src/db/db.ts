// The device's database. Screens read only from here; sync fills it; every change goes through
// the outbox. The schema is versioned: add a step to `upgrade` for each new version, never edit
// an old one, so an installed app carries its queued changes across any update.
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import type { Account, Contact, Holding, Note, TimelineItem, AccountRef, Visit, VisitPlan } from '../api/types';
import type { Mutation } from '../sync/mutations';
import type { LocalCase, LocalOpportunity, LocalQuote } from '../sales/types';

export const DB_NAME = 'fieldcrm';
export const DB_VERSION = 4;

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
  /** the server applied it, but not as sent (an opportunity's guarded field kept, a quote edit kept as a new revision, a possible duplicate account) */
  applied?: boolean;
  /** account.create answered `possible_duplicate`: the accounts it may repeat */
  candidates?: DuplicateCandidate[];
  rejectedAt: string;
}

/** An existing account a new one may repeat (sync push result of account.create), and why. */
export interface DuplicateCandidate {
  id: string;
  name: string;
  ownerName: string;
  /** same_code | same_name_city | nearby_similar_name */
  reasons: string[];
  inScope: boolean;
  code?: string;
  city?: string;
  distanceM?: number | null;
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

/**
 * A visit on this device: the server's copy, or the device's own record of a check-in the server
 * has not judged yet (`verdict: 'pending'`). `_stale`: the server has the device's changes but the
 * copy here is still the device's guess; it is fetched again (GET /api/visits/{id}).
 */
export type LocalVisit = Omit<Visit, 'verdict'> & {
  verdict: Visit['verdict'] | 'pending';
  _pending?: boolean;
  /** made on this device; the server has not confirmed it yet */
  _local?: boolean;
  _stale?: boolean;
};

/** A planned visit: the server's copy (cached for offline reading) or one planned here. */
export type LocalPlan = VisitPlan & { _pending?: boolean; _base?: VisitPlan | null; /** position in the planned order */ _seq?: number };

/** A visit photo waiting for upload (kept until the server has the visit and a network). */
export interface PendingPhoto {
  visitId: string;
  blob: Blob;
  type: string;
  addedAt: string;
}

/** Server answers kept for offline reading: `{key, at, data}` (e.g. `day:2026-11-24`). */
export interface CacheRow {
  key: string;
  at: string;
  data: unknown;
}

/** A task as the sync feed carries it (the fields the device reads; the rest is kept as sent). */
export interface LocalTask {
  id: string;
  accountId: string | null;
  title?: string;
  dueOn?: string | null;
  status?: string;
  [field: string]: unknown;
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
  visits: { key: string; value: LocalVisit; indexes: { byAccount: string } };
  plans: { key: string; value: LocalPlan; indexes: { byDate: string } };
  photos: { key: string; value: PendingPhoto };
  cache: { key: string; value: CacheRow };
  opportunities: { key: string; value: LocalOpportunity; indexes: { byAccount: string } };
  quotes: { key: string; value: LocalQuote; indexes: { byAccount: string } };
  /** v4: cases and projects (`kind`), from the sync feed or made here */
  cases: { key: string; value: LocalCase; indexes: { byAccount: string } };
  /** v4: tasks, from the sync feed */
  tasks: { key: string; value: LocalTask; indexes: { byAccount: string } };
}

export type AppDB = IDBPDatabase<FieldcrmDB>;
export type Store = StoreNames<FieldcrmDB>;
export type Tx<S extends Store[] = Store[]> = IDBPTransaction<FieldcrmDB, S, 'readwrite'>;

/** The stores that hold server data (cleared by a reset). */
export const DATA_STORES = ['accounts', 'contacts', 'holdings', 'notes', 'revenue', 'extras'] as const;
/** Field work: not in the sync feed yet (fetched and cached when online), so a pull's reset keeps them. */
export const VISIT_STORES = ['visits', 'plans', 'photos', 'cache'] as const;
/** Selling (v3; cases and tasks v4): fetched when online or pulled, kept for offline reading, changed through the outbox. */
export const SALES_STORES = ['opportunities', 'quotes', 'cases', 'tasks'] as const;
/** What the sync feed carries besides DATA_STORES (a reset replaces them when the server sends them). */
export const FEED_STORES = ['visits', 'plans', 'opportunities', 'quotes', 'cases', 'tasks'] as const;
export const ALL_STORES = ['meta', ...DATA_STORES, 'outbox', 'rejected', ...VISIT_STORES, ...SALES_STORES] as const;

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
      if (oldVersion < 2) {
        db.createObjectStore('visits', { keyPath: 'id' }).createIndex('byAccount', 'accountId');
        db.createObjectStore('plans', { keyPath: 'id' }).createIndex('byDate', 'date');
        db.createObjectStore('photos', { keyPath: 'visitId' });
        db.createObjectStore('cache', { keyPath: 'key' });
      }
      if (oldVersion < 3) {
        db.createObjectStore('opportunities', { keyPath: 'id' }).createIndex('byAccount', 'accountId');
        db.createObjectStore('quotes', { keyPath: 'id' }).createIndex('byAccount', 'accountId');
      }
      if (oldVersion < 4) {
        // Cases, projects and tasks come with the sync feed now (and cases are made offline).
        db.createObjectStore('cases', { keyPath: 'id' }).createIndex('byAccount', 'accountId');
        db.createObjectStore('tasks', { keyPath: 'id' }).createIndex('byAccount', 'accountId');
      }
      // Version 5 and later: add `if (oldVersion < 5) { … }` here, moving data as needed.
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
  /** true once a pull carried the field day (plans, visits, selling, cases, tasks): online reads that stood in for it stop */
  fieldDayFeed: 'fieldDayFeed',
} as const;

export async function getMeta<T>(db: AppDB, key: string): Promise<T | undefined> {
  return (await db.get('meta', key)) as T | undefined;
}

export async function setMeta(db: AppDB, key: string, value: unknown): Promise<void> {
  await db.put('meta', value, key);
}

/** Whether the sync feed carries the field day here (a pull brought plans, visits, selling, cases and tasks). */
export async function fieldDayFeed(db: AppDB): Promise<boolean> {
  return (await db.get('meta', META.fieldDayFeed)) === true;
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
