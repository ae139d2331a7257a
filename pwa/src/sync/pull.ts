// Apply one page of POST /api/sync/pull: upserts, deletes, a reset's clean slate, then the queued
// mutations replayed over whatever the server sent, all in one transaction with the new cursor.
// Besides accounts (with contacts, holdings, notes, revenue) the feed carries the field day: visit
// plans, visits, opportunities, quotes, cases, projects and tasks, with their deletes.
// Requests are issued together and awaited once (IndexedDB runs them in order): awaiting each
// put in turn makes a snapshot of thousands of rows take many seconds.
import type { PullResponse } from '../api/types';
import { DATA_STORES, FEED_STORES, META, type AppDB, type LocalAccount, type LocalPlan, type Tx } from '../db/db';
import type { Case, LocalCase } from '../sales/types';
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

type Project = NonNullable<PullResponse['projects']>[number];

/** A delivery project kept as a case is (the case screen shows both; `kind` tells them apart). */
export function projectAsCase(p: Project): LocalCase {
  const asCase: Case = {
    id: p.id,
    accountId: p.accountId,
    accountName: p.accountName,
    ownerId: p.ownerId,
    ownerName: p.ownerName,
    type: 'service_request',
    priority: 'normal',
    title: p.name,
    description: p.notes,
    state: p.state === 'active' ? 'in_progress' : p.state === 'completed' ? 'resolved' : 'cancelled',
    lastStep: p.lastStep,
    dueAt: '',
    overdue: false,
    resolvedAt: p.completedAt,
    steps: p.steps,
    version: p.version,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
  return { ...asCase, kind: 'project' };
}

/** Whether the server's pull carries the field day (plans, visits, selling, cases, tasks): it then sends those arrays, empty or not. */
export function carriesFieldDay(page: PullResponse): boolean {
  return Array.isArray(page.plans) && Array.isArray(page.visits) && Array.isArray(page.quotes);
}

/** Put the field day's rows of a page (plans, visits, opportunities, quotes, cases, projects, tasks) and apply their deletes. */
async function applyFieldDay(tx: Tx, page: PullResponse, touched: Set<string>, stats: PullPageStats): Promise<void> {
  const plans = tx.objectStore('plans');
  const visits = tx.objectStore('visits');
  const opportunities = tx.objectStore('opportunities');
  const quotes = tx.objectStore('quotes');
  const cases = tx.objectStore('cases');
  const tasks = tx.objectStore('tasks');
  const writes: Promise<unknown>[] = [];

  // A plan keeps its place in the planned order the device knows (new ones go after, in the page's order).
  const pagePlans = page.plans ?? [];
  const known = await Promise.all(pagePlans.map((p) => plans.get(p.id)));
  pagePlans.forEach((p, i) => {
    const { distanceM, ...rest } = p;
    void distanceM;
    const row: LocalPlan = { ...rest, _seq: known[i]?._seq ?? Date.parse(`${p.date}T00:00:00Z`) + i };
    writes.push(plans.put(row));
    touched.add(`plans:${p.id}`);
  });
  for (const v of page.visits ?? []) {
    writes.push(visits.put({ ...v }));
    touched.add(`visits:${v.id}`);
  }
  for (const o of page.opportunities ?? []) {
    writes.push(opportunities.put({ ...o }));
    touched.add(`opportunities:${o.id}`);
  }
  for (const q of page.quotes ?? []) {
    writes.push(quotes.put({ ...q }));
    touched.add(`quotes:${q.id}`);
  }
  for (const c of page.cases ?? []) {
    writes.push(cases.put({ ...c, kind: 'case' }));
    touched.add(`cases:${c.id}`);
  }
  for (const p of page.projects ?? []) {
    writes.push(cases.put(projectAsCase(p)));
    touched.add(`cases:${p.id}`);
  }
  for (const t of page.tasks ?? []) writes.push(tasks.put({ ...t }));
  stats.upserts +=
    pagePlans.length + (page.visits?.length ?? 0) + (page.opportunities?.length ?? 0) + (page.quotes?.length ?? 0) +
    (page.cases?.length ?? 0) + (page.projects?.length ?? 0) + (page.tasks?.length ?? 0);

  const d = page.deletes ?? ({} as PullResponse['deletes']);
  for (const id of d.plans ?? []) writes.push(plans.delete(id));
  for (const id of d.visits ?? []) writes.push(visits.delete(id));
  for (const id of d.opportunities ?? []) writes.push(opportunities.delete(id));
  for (const id of d.quotes ?? []) writes.push(quotes.delete(id));
  for (const id of [...(d.cases ?? []), ...(d.projects ?? [])]) writes.push(cases.delete(id));
  for (const id of d.tasks ?? []) writes.push(tasks.delete(id));
  await Promise.all(writes);

  // A deleted account (gone, or out of scope) takes its field day along.
  const goneAccounts = d.accounts ?? [];
  if (goneAccounts.length) {
    const gone = new Set(goneAccounts);
    const more: Promise<unknown>[] = [];
    for (const store of ['visits', 'opportunities', 'quotes', 'cases', 'tasks'] as const) {
      const index = tx.objectStore(store).index('byAccount');
      for (const id of goneAccounts) {
        for (const key of await index.getAllKeys(id)) more.push(tx.objectStore(store).delete(key));
      }
    }
    for (const plan of await plans.getAll()) if (gone.has(plan.accountId)) more.push(plans.delete(plan.id));
    await Promise.all(more);
  }
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

  const fieldDay = carriesFieldDay(page);
  if (options.clearFirst) {
    // The field day's stores are replaced too when the server carries them (the first page has them whole).
    const stores = fieldDay ? [...DATA_STORES, ...FEED_STORES] : [...DATA_STORES];
    await Promise.all([...stores.map((name) => tx.objectStore(name).clear()), meta.delete(META.revenueEnd)]);
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
  if (fieldDay) await applyFieldDay(tx, page, touched, stats);

  await replay(tx, options.clearFirst ? 'all' : touched, options.author);
  await refreshSearchMany(tx, searchDirty);

  await Promise.all([
    meta.put(page.cursor, META.cursor),
    meta.put(options.inSnapshot, META.inSnapshot),
    ...(fieldDay ? [meta.put(true, META.fieldDayFeed)] : []),
  ]);
  await tx.done;
  return stats;
}
