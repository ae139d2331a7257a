// Selling on the device: opportunities, quotes and cases come with the sync pull into their stores;
// what the feed does not carry (the catalogue, stages, pipeline figures, the inbox, histories) is
// fetched when online and kept in `cache` (a server without the field day in its feed: lists too);
// changes go through the outbox (src/sales/mutations.ts). After a sync the rows the server took are
// fetched again for its numbers, totals and versions.
import type { App } from '../app';
import type { ApiResult } from '../api/client';
import { fieldDayFeed, type AppDB, type CacheRow } from '../db/db';
import { replay, rowKey } from '../sync/mutations';
import { writeTx } from '../sync/outbox';
import { PRODUCTS_KEY, STAGES_KEY } from './mutations';
import type {
  Case,
  CasePage,
  InboxPage,
  InstancePage,
  LocalCase,
  LocalOpportunity,
  LocalQuote,
  Opportunity,
  Pipeline,
  Product,
  Quote,
  QuotePage,
  QuoteSummary,
  Stage,
} from './types';

export { PRODUCTS_KEY, STAGES_KEY };

export function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
  const text = q.toString();
  return text ? `?${text}` : '';
}

export async function cached<T>(db: AppDB, key: string): Promise<{ at: string; data: T } | null> {
  const row = (await db.get('cache', key)) as CacheRow | undefined;
  return row ? { at: row.at, data: row.data as T } : null;
}

export async function keep(db: AppDB, key: string, data: unknown): Promise<void> {
  await db.put('cache', { key, at: new Date().toISOString(), data });
}

/** GET every page of a list (up to `max` rows). null when offline or on failure. */
async function getAll<T>(app: App, path: string, max = 500): Promise<T[] | null> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const result: ApiResult<{ items: T[]; nextCursor: string | null }> = await app.api.get(`${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (!result.ok) return items.length ? items : null;
    items.push(...result.data.items);
    cursor = result.data.nextCursor;
  } while (cursor && items.length < max);
  return items;
}

// ---------------------------------------------------------------- catalogue and stages

export async function loadProducts(db: AppDB): Promise<Product[]> {
  return (await cached<Product[]>(db, PRODUCTS_KEY))?.data ?? [];
}

/** The catalogue (sold products), kept for offline quotes; refetched at most every 10 minutes. */
export async function fetchProducts(app: App, force = false): Promise<Product[] | null> {
  const have = await cached<Product[]>(app.db, PRODUCTS_KEY);
  if (!force && have && Date.now() - Date.parse(have.at) < 10 * 60_000) return have.data;
  const items = await getAll<Product>(app, '/api/products', 1000);
  if (items) await keep(app.db, PRODUCTS_KEY, items);
  return items;
}

export async function loadStages(db: AppDB): Promise<Stage[]> {
  return (await cached<Stage[]>(db, STAGES_KEY))?.data ?? [];
}

export async function fetchStages(app: App): Promise<Stage[] | null> {
  const result = await app.api.get<Stage[]>('/api/opportunities/stages');
  if (!result.ok) return null;
  const stages = [...result.data].sort((a, b) => a.position - b.position);
  await keep(app.db, STAGES_KEY, stages);
  return stages;
}

// ---------------------------------------------------------------- opportunities

/** Keep server opportunities (queued changes replayed on top); `owned`: the list is all of that person's, so missing ones went. */
export async function storeOpportunities(app: App, rows: readonly Opportunity[], owned?: string): Promise<void> {
  const tx = writeTx(app.db);
  const store = tx.objectStore('opportunities');
  if (owned) {
    const listed = new Set(rows.map((r) => r.id));
    for (const row of await store.getAll()) {
      if (row.ownerId === owned && !listed.has(row.id) && !row._pending && row._base === undefined) await store.delete(row.id);
    }
  }
  await Promise.all(rows.map((r) => store.put({ ...r })));
  await replay(tx, new Set(rows.map((r) => `opportunities:${r.id}`)), app.author());
  await tx.done;
}

export interface OpportunityFilter {
  ownerId?: string | undefined;
  accountId?: string | undefined;
}

export async function fetchOpportunities(app: App, filter: OpportunityFilter): Promise<boolean> {
  const items = await getAll<Opportunity>(app, `/api/opportunities${query({ ownerId: filter.ownerId, accountId: filter.accountId })}`);
  if (!items) return false;
  await storeOpportunities(app, items, filter.ownerId && !filter.accountId ? filter.ownerId : undefined);
  return true;
}

export async function loadOpportunities(db: AppDB, filter: OpportunityFilter): Promise<LocalOpportunity[]> {
  const rows = filter.accountId ? await db.getAllFromIndex('opportunities', 'byAccount', filter.accountId) : await db.getAll('opportunities');
  return rows
    .filter((r) => !filter.ownerId || r.ownerId === filter.ownerId)
    .sort((a, b) => (a.expectedClose ?? '9999').localeCompare(b.expectedClose ?? '9999') || a.name.localeCompare(b.name));
}

export async function fetchOpportunity(app: App, id: string): Promise<'ok' | 'gone' | 'failed'> {
  const result = await app.api.get<Opportunity>(`/api/opportunities/${encodeURIComponent(id)}`);
  if (result.ok) {
    await storeOpportunities(app, [result.data]);
    return 'ok';
  }
  if (result.status === 404) {
    const row = await app.db.get('opportunities', id);
    if (row && !row._pending && row._base !== null) await app.db.delete('opportunities', id);
    return 'gone';
  }
  return 'failed';
}

/** The pipeline by stage worked out from the opportunities on the device (the feed carries them all, open and lately closed). */
export function pipelineFromRows(rows: readonly Opportunity[], stages: readonly Stage[]): Pipeline {
  const byStage = new Map(stages.map((st) => [st.key, { stage: st.key, name: st.name, kind: st.kind, count: 0, amountCents: 0, weightedCents: 0 }]));
  for (const o of rows) {
    const entry = byStage.get(o.stage);
    if (!entry) continue;
    entry.count++;
    entry.amountCents += o.amountCents;
    entry.weightedCents += o.weightedCents;
  }
  const list = [...byStage.values()];
  const open = list.filter((st) => st.kind === 'open');
  return {
    stages: list,
    openCount: open.reduce((n, st) => n + st.count, 0),
    openAmountCents: open.reduce((n, st) => n + st.amountCents, 0),
    openWeightedCents: open.reduce((n, st) => n + st.weightedCents, 0),
  };
}

export function pipelineKey(scope: 'mine' | 'team'): string {
  return `sales:pipeline:${scope}`;
}

/** The pipeline by stage: mine, or everything the caller sees (a leader's team or region). */
export async function fetchPipeline(app: App, scope: 'mine' | 'team'): Promise<Pipeline | null> {
  const ownerId = scope === 'mine' ? app.me?.user.id : undefined;
  const result = await app.api.get<Pipeline>(`/api/opportunities/pipeline${query({ ownerId })}`);
  if (!result.ok) return null;
  await keep(app.db, pipelineKey(scope), result.data);
  return result.data;
}

// ---------------------------------------------------------------- quotes

export async function storeQuotes(app: App, rows: readonly Quote[]): Promise<void> {
  const tx = writeTx(app.db);
  const store = tx.objectStore('quotes');
  await Promise.all(rows.map((r) => store.put({ ...r })));
  await replay(tx, new Set(rows.map((r) => `quotes:${r.id}`)), app.author());
  await tx.done;
}

export async function fetchQuote(app: App, id: string): Promise<'ok' | 'gone' | 'failed'> {
  const result = await app.api.get<Quote>(`/api/quotes/${encodeURIComponent(id)}`);
  if (result.ok) {
    await storeQuotes(app, [result.data]);
    return 'ok';
  }
  if (result.status === 404) {
    const row = await app.db.get('quotes', id);
    if (row && !row._pending && row._base !== null) await app.db.delete('quotes', id);
    return 'gone';
  }
  return 'failed';
}

export function quotesKey(scope: string): string {
  return `sales:quotes:${scope}`;
}

/** A list of quotes (summaries), kept for offline reading under `scope` ("mine", "account:<id>"). */
export async function fetchQuoteList(app: App, scope: string, params: Record<string, string | undefined>): Promise<QuoteSummary[] | null> {
  const result = await app.api.get<QuotePage>(`/api/quotes${query({ ...params, limit: 100 })}`);
  if (!result.ok) return null;
  await keep(app.db, quotesKey(scope), result.data.items);
  return result.data.items;
}

/** The list as the device knows it: the server's summaries, with quotes made or changed here on top. */
export async function loadQuoteList(db: AppDB, scope: string, match: (q: LocalQuote) => boolean): Promise<(QuoteSummary & { _pending?: boolean })[]> {
  // With the field day in the feed the quotes store has them all; else the last list read online is merged in.
  const listed = (await fieldDayFeed(db)) ? [] : ((await cached<QuoteSummary[]>(db, quotesKey(scope)))?.data ?? []);
  const local = (await db.getAll('quotes')).filter(match);
  const byId = new Map<string, QuoteSummary & { _pending?: boolean }>(listed.map((q) => [q.id, q]));
  for (const q of local) {
    if (q._pending || !byId.has(q.id) || (byId.get(q.id)!.updatedAt < q.updatedAt)) {
      byId.set(q.id, {
        id: q.id,
        number: q.number,
        revision: q.revision,
        accountId: q.accountId,
        accountName: q.accountName,
        ownerId: q.ownerId,
        title: q.title,
        state: q.state,
        totalCents: q.totalCents,
        discountBp: q.discountBp,
        validUntil: q.validUntil,
        updatedAt: q.updatedAt,
        _pending: !!q._pending,
      });
    }
  }
  return [...byId.values()].sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0));
}

export function historyKey(kind: string, id: string): string {
  return `sales:history:${kind}:${id}`;
}

/** A subject's workflow runs with every decision (GET /api/workflow-instances), kept for offline reading. */
export async function fetchHistory(app: App, kind: string, id: string): Promise<InstancePage | null> {
  const result = await app.api.get<InstancePage>(`/api/workflow-instances${query({ subjectKind: kind, subjectId: id, limit: 20 })}`);
  if (!result.ok) return null;
  await keep(app.db, historyKey(kind, id), result.data);
  return result.data;
}

// ---------------------------------------------------------------- approvals and cases

export const INBOX_KEY = 'sales:inbox';

export async function fetchInbox(app: App): Promise<InboxPage | null> {
  const result = await app.api.get<InboxPage>('/api/approvals?limit=100');
  if (!result.ok) return null;
  await keep(app.db, INBOX_KEY, result.data);
  return result.data;
}

export function casesKey(scope: string): string {
  return `sales:cases:${scope}`;
}

export async function fetchCases(app: App, scope: string, params: Record<string, string | undefined>): Promise<Case[] | null> {
  const result = await app.api.get<CasePage>(`/api/cases${query({ ...params, limit: 100 })}`);
  if (!result.ok) return null;
  await keep(app.db, casesKey(scope), result.data.items);
  return result.data.items;
}

/** A list of cases with the ones on the device (made here and not sent yet, or pulled) merged in, newest first. */
export function withLocalCases(listed: readonly Case[], local: readonly LocalCase[]): Case[] {
  const byId = new Map<string, Case>(listed.map((c) => [c.id, c]));
  for (const c of local) {
    if ((c.kind ?? 'case') !== 'case') continue;
    const known = byId.get(c.id);
    if (!known || c._pending || known.updatedAt < c.updatedAt) byId.set(c.id, c);
  }
  return [...byId.values()].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
}

export async function fetchCase(app: App, id: string): Promise<Case | null> {
  const result = await app.api.get<Case>(`/api/cases/${encodeURIComponent(id)}`);
  if (!result.ok) return null;
  await keep(app.db, `sales:case:${id}`, result.data);
  return result.data;
}

// ---------------------------------------------------------------- after a sync

let refreshing: Promise<void> | null = null;

/** Fetch the server's copy of every opportunity and quote the server has just taken from this device. */
export function refreshSalesAfterSync(app: App): Promise<void> {
  if (!refreshing) {
    refreshing = (async () => {
      // The pull carries opportunities and quotes (with their numbers, totals and versions): no reads for them.
      const feed = await fieldDayFeed(app.db);
      const [opps, quotes] = feed ? [[], []] : await Promise.all([app.db.getAll('opportunities'), app.db.getAll('quotes')]);
      let changed = false;
      for (const o of opps.filter((r) => r._stale)) {
        const r = await fetchOpportunity(app, o.id);
        if (r === 'failed') break;
        changed = true;
      }
      for (const q of quotes.filter((r) => r._stale)) {
        const r = await fetchQuote(app, q.id);
        if (r === 'failed') break;
        changed = true;
      }
      if (changed) app.events.emit('data', { reset: false });
      // Keep the catalogue and the stages on the device, so a quote or an opportunity can be made
      // offline even before the selling screens were opened with a network (at most every 10 minutes).
      await fetchProducts(app);
      if (!(await loadStages(app.db)).length) await fetchStages(app);
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

/** Whether queued changes of a row still wait in the outbox. */
export async function waiting(db: AppDB, key: string): Promise<boolean> {
  return (await db.getAll('outbox')).some((m) => rowKey(m) === key);
}
