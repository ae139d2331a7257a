// The mutations of docs/sync.md, and what each one does to the local copy: applied optimistically
// (in the transaction that queues it), replayed over fresh server rows until the server has it,
// and rolled back when the server rejects it.
import type { Account, Contact, DecisionRole } from '../api/types';
import type { LocalAccount, LocalContact, LocalNote, Tx } from '../db/db';

export type AccountChanges = Partial<Pick<Account, 'name' | 'industry' | 'address' | 'city' | 'status' | 'memberLines' | 'notes'>>;
export type ContactChanges = Partial<Pick<Contact, 'name' | 'title' | 'phones' | 'email' | 'decisionRole' | 'notes'>>;

export interface MutationArgs {
  'account.update': { id: string; baseVersion: number; changes: AccountChanges };
  'account.note': { id: string; accountId: string; text: string };
  'contact.create': {
    id: string;
    accountId: string;
    name: string;
    title: string;
    phones: string[];
    email: string | null;
    decisionRole: DecisionRole;
    notes: string;
  };
  'contact.update': { id: string; accountId: string; baseVersion: number; changes: ContactChanges };
  'contact.delete': { id: string; accountId: string };
}

export type MutationName = keyof MutationArgs;

export type Mutation = {
  [N in MutationName]: { id: number; name: N; args: MutationArgs[N]; capturedAt: string };
}[MutationName];

export type NewMutation = {
  [N in MutationName]: { name: N; args: MutationArgs[N] };
}[MutationName];

/** Who makes changes on this device (notes carry the author's name until the server's copy arrives). */
export interface Author {
  id: string;
  name: string;
}

/** The row a mutation changes, as "store:id". */
export function rowKey(m: Mutation | NewMutation): string {
  switch (m.name) {
    case 'account.update':
      return `accounts:${m.args.id}`;
    case 'account.note':
      return `notes:${m.args.id}`;
    default:
      return `contacts:${m.args.id}`;
  }
}

/** The rows whose arrival from the server must replay this mutation. */
export function replayKeys(m: Mutation): string[] {
  return m.name === 'account.update' ? [rowKey(m)] : [rowKey(m), `accounts:${m.args.accountId}`];
}

/** The account a mutation concerns. */
export function accountOf(m: Mutation | NewMutation): string {
  return m.name === 'account.update' ? m.args.id : m.args.accountId;
}

type WithLocal = { _pending?: boolean; _base?: unknown; _deleted?: boolean; _s?: string };

/** The server's fields of a local row. */
export function serverCopy<T extends object>(row: T & WithLocal): T {
  const { _pending, _base, _deleted, _s, ...rest } = row;
  void _pending;
  void _base;
  void _deleted;
  void _s;
  return rest as unknown as T;
}

export function searchText(account: Pick<Account, 'name' | 'code'>, contactNames: readonly string[]): string {
  return [account.name, account.code, ...contactNames].join('\n').toLowerCase();
}

/** Recompute an account's search text from its name, code and (not deleted) contacts. */
export async function refreshSearch(tx: Tx, accountId: string): Promise<void> {
  const accounts = tx.objectStore('accounts');
  const account = await accounts.get(accountId);
  if (!account) return;
  const contacts = await tx.objectStore('contacts').index('byAccount').getAll(accountId);
  const text = searchText(account, contacts.filter((c) => !c._deleted).map((c) => c.name));
  if (text !== account._s) {
    account._s = text;
    await accounts.put(account);
  }
}

/** Apply a mutation to the local copy. Idempotent: replaying it over its own result changes nothing. */
export async function applyOptimistic(tx: Tx, m: Mutation, author: Author | null): Promise<void> {
  switch (m.name) {
    case 'account.update': {
      const store = tx.objectStore('accounts');
      const row = await store.get(m.args.id);
      if (!row) return;
      if (row._base === undefined) row._base = serverCopy<Account>(row);
      Object.assign(row, m.args.changes);
      row._pending = true;
      await store.put(row);
      await refreshSearch(tx, row.id);
      return;
    }
    case 'account.note': {
      const store = tx.objectStore('notes');
      const existing = await store.get(m.args.id);
      if (existing && existing._base === undefined) return; // the server's copy is here already
      const note: LocalNote = {
        id: m.args.id,
        accountId: m.args.accountId,
        text: m.args.text,
        authorId: author?.id ?? null,
        authorName: author?.name ?? '',
        capturedAt: m.capturedAt,
        createdAt: m.capturedAt,
        _pending: true,
        _base: null,
      };
      await store.put(note);
      return;
    }
    case 'contact.create': {
      if (!(await tx.objectStore('accounts').get(m.args.accountId))) return;
      const store = tx.objectStore('contacts');
      const existing = await store.get(m.args.id);
      if (existing && existing._base === undefined) return;
      const { id, accountId, name, title, phones, email, decisionRole, notes } = m.args;
      const contact: LocalContact = {
        id,
        accountId,
        name,
        title,
        phones: [...phones],
        email,
        decisionRole,
        notes,
        version: 0,
        createdAt: m.capturedAt,
        updatedAt: m.capturedAt,
        _pending: true,
        _base: null,
      };
      await store.put(contact);
      await refreshSearch(tx, accountId);
      return;
    }
    case 'contact.update':
    case 'contact.delete': {
      const store = tx.objectStore('contacts');
      const row = await store.get(m.args.id);
      if (!row) return;
      if (row._base === undefined) row._base = serverCopy<Contact>(row);
      if (m.name === 'contact.update') Object.assign(row, m.args.changes);
      else row._deleted = true;
      row._pending = true;
      await store.put(row);
      await refreshSearch(tx, row.accountId);
      return;
    }
  }
}

/** Put back the server's copy of the row a rejected mutation changed (or drop a row made here). */
export async function rollBack(tx: Tx, m: Mutation): Promise<void> {
  switch (m.name) {
    case 'account.update': {
      const store = tx.objectStore('accounts');
      const row = await store.get(m.args.id);
      if (!row || !row._base) return;
      const restored: LocalAccount = { ...row._base, _s: row._s };
      await store.put(restored);
      await refreshSearch(tx, row.id);
      return;
    }
    case 'account.note': {
      const store = tx.objectStore('notes');
      const row = await store.get(m.args.id);
      if (row && row._base === null) await store.delete(m.args.id);
      return;
    }
    case 'contact.create':
    case 'contact.update':
    case 'contact.delete': {
      const store = tx.objectStore('contacts');
      const row = await store.get(m.args.id);
      if (!row || row._base === undefined) return;
      if (row._base === null) await store.delete(row.id);
      else await store.put({ ...row._base });
      await refreshSearch(tx, m.args.accountId);
      return;
    }
    default:
      // A name this version does not know (queued by another version): nothing to put back.
      return;
  }
}

/** Re-apply the queued mutations that touch any of `keys` (all of them when keys is 'all'), in order. */
export async function replay(tx: Tx, keys: Set<string> | 'all', author: Author | null): Promise<void> {
  if (keys !== 'all' && keys.size === 0) return;
  const queued = await tx.objectStore('outbox').getAll();
  for (const m of queued) {
    if (keys === 'all' || replayKeys(m).some((k) => keys.has(k))) await applyOptimistic(tx, m, author);
  }
}

/** Rows no queued mutation touches any more lose their pending mark (and rows deleted here go). */
export async function settle(tx: Tx, keys: Iterable<string>): Promise<void> {
  const stillQueued = new Set((await tx.objectStore('outbox').getAll()).map(rowKey));
  for (const key of keys) {
    if (stillQueued.has(key)) continue;
    const [store, id] = splitKey(key);
    if (store === 'accounts') {
      const row = await tx.objectStore('accounts').get(id);
      if (row && (row._pending || row._base !== undefined)) {
        delete row._pending;
        delete row._base;
        await tx.objectStore('accounts').put(row);
      }
    } else if (store === 'contacts') {
      const contacts = tx.objectStore('contacts');
      const row = await contacts.get(id);
      if (!row) continue;
      if (row._deleted) {
        await contacts.delete(id);
        await refreshSearch(tx, row.accountId);
      } else if (row._pending || row._base !== undefined) {
        delete row._pending;
        delete row._base;
        await contacts.put(row);
      }
    } else if (store === 'notes') {
      const row = await tx.objectStore('notes').get(id);
      if (row && (row._pending || row._base !== undefined)) {
        delete row._pending;
        delete row._base;
        await tx.objectStore('notes').put(row);
      }
    }
  }
}

function splitKey(key: string): [string, string] {
  const at = key.indexOf(':');
  return [key.slice(0, at), key.slice(at + 1)];
}
