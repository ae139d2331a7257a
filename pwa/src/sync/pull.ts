// Apply one page of POST /api/sync/pull: upserts, deletes, a reset's clean slate, then the queued
// mutations replayed over whatever the server sent, all in one transaction with the new cursor.
// Requests are issued together and awaited once (IndexedDB runs them in order): awaiting each
// put in turn makes a snapshot of thousands of rows take many seconds.
import type { PullResponse } from '../api/types';
import { DATA_STORES, META, type AppDB, type LocalAccount, type Tx } from '../db/db';
import { replay, searchText, type Author } from './mutations';
import { writeTx } from './outbox';

export interface PullPageOptions {
  /** Replace the local copy: the first page of a reset. */
  clearFirst: boolean;
  /** Another page of the same snapshot follows. */
  inSnapshot: boolean;
  author: Author | null;
}

export interface PullPageStats {
  upserts: number;
  deletes: number;
}

async function deleteByAccount(tx: Tx, store: 'contacts' | 'holdings' | 'notes', accountId: string): Promise<void> {
  const keys = await tx.objectStore(store).index('byAccount').getAllKeys(accountId);
  await Promise.all(keys.map((key) => tx.objectStore(store).delete(key)));
}

/** Recompute the search text of these accounts (name, code, names of contacts not deleted here). */
export async function refreshSearchMany(tx: Tx, accountIds: Iterable<string>): Promise<void> {
  const ids = [...accountIds];
  if (!ids.length) return;
  const accounts = tx.objectStore('accounts');
  const byAccount = tx.objectStore('contacts').index('byAccount');
  const [rows, contactLists] = await Promise.all([
    Promise.all(ids.map((id) => accounts.get(id))),
    Promise.all(ids.map((id) => byAccount.getAll(id))),
  ]);
  const puts: Promise<unknown>[] = [];
  rows.forEach((row, i) => {
    if (!row) return;
    const text = searchText(row, contactLists[i]!.filter((c) => !c._deleted).map((c) => c.name));
    if (text !== row._s) puts.push(accounts.put({ ...row, _s: text }));
  });
  await Promise.all(puts);
}

export async function applyPullPage(db: AppDB, page: PullResponse, options: PullPageOptions): Promise<PullPageStats> {
  const tx = writeTx(db);
  const stats: PullPageStats = { upserts: 0, deletes: 0 };
  const touched = new Set<string>();
  const searchDirty = new Set<string>();
  const meta = tx.objectStore('meta');
  const accounts = tx.objectStore('accounts');
  const contacts = tx.objectStore('contacts');
  const holdings = tx.objectStore('holdings');
  const notes = tx.objectStore('notes');
  const revenue = tx.objectStore('revenue');

  if (options.clearFirst) {
    await Promise.all([...DATA_STORES.map((name) => tx.objectStore(name).clear()), meta.delete(META.revenueEnd)]);
  }

  const writes: Promise<unknown>[] = [];
  for (const account of page.accounts ?? []) {
    const row: LocalAccount = { ...account, _s: '' };
    writes.push(accounts.put(row));
    touched.add(`accounts:${account.id}`);
    searchDirty.add(account.id);
  }
  for (const contact of page.contacts ?? []) {
    writes.push(contacts.put({ ...contact }));
    touched.add(`contacts:${contact.id}`);
    searchDirty.add(contact.accountId);
  }
  for (const holding of page.holdings ?? []) writes.push(holdings.put({ ...holding }));
  for (const note of page.notes ?? []) {
    writes.push(notes.put({ ...note }));
    touched.add(`notes:${note.id}`);
  }
  stats.upserts =
    (page.accounts?.length ?? 0) + (page.contacts?.length ?? 0) + (page.holdings?.length ?? 0) + (page.notes?.length ?? 0);

  // Revenue arrives as [accountId, month, cents] cells; the device keeps one row per account.
  const cells = new Map<string, [string, number][]>();
  let latest = '';
  for (const [accountId, month, cents] of page.revenue ?? []) {
    let list = cells.get(accountId);
    if (!list) cells.set(accountId, (list = []));
    list.push([month, cents]);
    if (month > latest) latest = month;
  }
  stats.upserts += page.revenue?.length ?? 0;
  const revenueIds = [...cells.keys()];
  const [stored, storedEnd] = await Promise.all([
    Promise.all(revenueIds.map((id) => revenue.get(id))),
    meta.get(META.revenueEnd) as Promise<string | undefined>,
    ...writes,
  ]);
  revenueIds.forEach((accountId, i) => {
    const months = { ...(stored[i]?.months ?? {}) };
    for (const [month, cents] of cells.get(accountId)!) months[month] = cents;
    writes.push(revenue.put({ accountId, months }));
  });
  if (latest && latest > (storedEnd ?? '')) writes.push(meta.put(latest, META.revenueEnd));

  const deletes = page.deletes ?? {};
  for (const id of deletes.accounts ?? []) {
    writes.push(accounts.delete(id), revenue.delete(id), tx.objectStore('extras').delete(id));
    writes.push(deleteByAccount(tx, 'contacts', id), deleteByAccount(tx, 'holdings', id), deleteByAccount(tx, 'notes', id));
    searchDirty.delete(id);
  }
  const goneContacts = deletes.contacts ?? [];
  const goneRows = await Promise.all(goneContacts.map((id) => contacts.get(id)));
  goneContacts.forEach((id, i) => {
    const row = goneRows[i];
    if (row) searchDirty.add(row.accountId);
    writes.push(contacts.delete(id));
  });
  for (const id of deletes.holdings ?? []) writes.push(holdings.delete(id));
  for (const id of deletes.notes ?? []) writes.push(notes.delete(id));
  stats.deletes = Object.values(deletes).reduce((n, ids) => n + (ids?.length ?? 0), 0);
  await Promise.all(writes);

  await replay(tx, options.clearFirst ? 'all' : touched, options.author);
  await refreshSearchMany(tx, searchDirty);

  await Promise.all([meta.put(page.cursor, META.cursor), meta.put(options.inSnapshot, META.inSnapshot)]);
  await tx.done;
  return stats;
}
