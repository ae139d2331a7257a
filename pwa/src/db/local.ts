// Reads for the screens, all from IndexedDB.
import type { AccountRef, AccountStatus, Holding, Tier } from '../api/types';
import { META, type AccountExtras, type AppDB, type LocalAccount, type LocalContact, type LocalNote } from './db';

export const ENDING_SOON_DAYS = 90;

export interface AccountListItem {
  id: string;
  name: string;
  code: string;
  city: string;
  industry: string;
  tier: Tier | null;
  status: AccountStatus;
  revenue: number;
  pending: boolean;
  s: string;
}

/** Every account on the device, largest revenue first, as the list needs them. */
export async function loadAccountList(db: AppDB): Promise<AccountListItem[]> {
  const rows = await db.getAll('accounts');
  const items = rows.map((a) => ({
    id: a.id,
    name: a.name,
    code: a.code,
    city: a.city,
    industry: a.industry,
    tier: a.tier,
    status: a.status,
    revenue: a.revenue12MCents,
    pending: !!a._pending,
    s: a._s,
  }));
  items.sort((x, y) => y.revenue - x.revenue || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  return items;
}

export interface AccountFilter {
  q: string;
  tier: Tier | '';
  status: AccountStatus | '';
}

/** Every word of the query must appear in the name, code or a contact's name. */
export function filterAccounts(items: readonly AccountListItem[], filter: AccountFilter): AccountListItem[] {
  const words = filter.q.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length && !filter.tier && !filter.status) return items.slice();
  return items.filter(
    (a) =>
      (!filter.tier || a.tier === filter.tier) &&
      (!filter.status || a.status === filter.status) &&
      words.every((w) => a.s.includes(w)),
  );
}

export function addMonths(month: string, n: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const index = y * 12 + (m - 1) + n;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
}

/** The twelve months ending at `end` (the latest month the server sent), else at last month. */
export function revenueWindow(end: string | undefined, today: Date = new Date()): string[] {
  const last = end ?? addMonths(`${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, '0')}`, -1);
  return Array.from({ length: 12 }, (_, i) => addMonths(last, i - 11));
}

function dayNumber(isoDate: string): number {
  const [y, m, d] = isoDate.slice(0, 10).split('-').map(Number) as [number, number, number];
  return Date.UTC(y, m - 1, d) / 86_400_000;
}

export function todayIso(today: Date = new Date()): string {
  return `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, '0')}-${String(today.getDate()).padStart(2, '0')}`;
}

/** Days from today to a contract's end (negative once it has ended), or null without an end. */
export function endsInDays(contractEnd: string | null, today: Date = new Date()): number | null {
  return contractEnd ? dayNumber(contractEnd) - dayNumber(todayIso(today)) : null;
}

export function endingSoon(h: Holding, today: Date = new Date()): boolean {
  const days = endsInDays(h.contractEnd, today);
  return days !== null && days >= 0 && days <= ENDING_SOON_DAYS;
}

export interface LocalTimelineItem {
  at: string;
  kind: string;
  title: string;
  detail: string;
  actor: string;
  pending: boolean;
  params?: Record<string, string>;
}

/** Notes and contract dates from the device, and the server's change log from the last overview. */
export function buildTimeline(
  notes: readonly LocalNote[],
  holdings: readonly Holding[],
  extras: AccountExtras | undefined,
  today: Date = new Date(),
  limit = 50,
): LocalTimelineItem[] {
  const items: LocalTimelineItem[] = [];
  const noteIds = new Set(notes.map((n) => n.id));
  for (const n of notes) {
    items.push({
      at: n.capturedAt ?? n.createdAt,
      kind: 'note',
      title: '',
      detail: n.text,
      actor: n.authorName ?? '',
      pending: !!n._pending,
    });
  }
  const horizon = dayNumber(todayIso(today)) + ENDING_SOON_DAYS;
  for (const h of holdings) {
    for (const [kind, day] of [
      ['contract.start', h.contractStart],
      ['contract.end', h.contractEnd],
    ] as const) {
      if (day && dayNumber(day) <= horizon) {
        items.push({ at: `${day}T00:00:00Z`, kind, title: '', detail: '', actor: '', pending: false, params: { product: h.product } });
      }
    }
  }
  for (const e of extras?.timeline ?? []) {
    if (e.kind.startsWith('contract.')) continue;
    if (e.refId && noteIds.has(e.refId)) continue; // the note itself is listed already
    items.push({ at: e.at, kind: e.kind, title: e.title, detail: e.detail ?? '', actor: e.actorName ?? '', pending: false });
  }
  items.sort((x, y) => (x.at < y.at ? 1 : x.at > y.at ? -1 : 0));
  return items.slice(0, limit);
}

export interface GroupView {
  parent: { id: string; name: string; local: boolean } | null;
  parentMissing: boolean;
  members: { id: string; name: string; code: string; tier: Tier | null; local: boolean }[];
  memberCount: number;
}

export interface Account360 {
  account: LocalAccount;
  group: GroupView;
  contacts: LocalContact[];
  holdings: Holding[];
  notes: LocalNote[];
  revenue: { month: string; cents: number }[];
  extras: AccountExtras | undefined;
}

export async function loadAccount360(db: AppDB, id: string): Promise<Account360 | null> {
  const tx = db.transaction(['accounts', 'contacts', 'holdings', 'notes', 'revenue', 'extras', 'meta']);
  const account = await tx.objectStore('accounts').get(id);
  if (!account) {
    await tx.done;
    return null;
  }
  const [contacts, holdings, notes, revenueRow, extras, memberRows, revenueEnd, parentRow] = await Promise.all([
    tx.objectStore('contacts').index('byAccount').getAll(id),
    tx.objectStore('holdings').index('byAccount').getAll(id),
    tx.objectStore('notes').index('byAccount').getAll(id),
    tx.objectStore('revenue').get(id),
    tx.objectStore('extras').get(id),
    tx.objectStore('accounts').index('byParent').getAll(id),
    tx.objectStore('meta').get(META.revenueEnd) as Promise<string | undefined>,
    account.parentId ? tx.objectStore('accounts').get(account.parentId) : Promise.resolve(undefined),
  ]);
  await tx.done;

  const months = revenueRow?.months ?? {};
  const revenue = revenueWindow(revenueEnd).map((month) => ({ month, cents: months[month] ?? 0 }));

  const members = new Map<string, GroupView['members'][number]>();
  for (const m of memberRows) members.set(m.id, { id: m.id, name: m.name, code: m.code, tier: m.tier, local: true });
  for (const m of extras?.members ?? []) {
    if (!members.has(m.id)) members.set(m.id, { id: m.id, name: m.name, code: m.code, tier: m.tier, local: false });
  }
  let parent: GroupView['parent'] = null;
  if (parentRow) parent = { id: parentRow.id, name: parentRow.name, local: true };
  else if (extras?.parent && extras.parent.id === account.parentId) parent = refToParent(extras.parent);

  return {
    account,
    group: {
      parent,
      parentMissing: !!account.parentId && !parent,
      members: [...members.values()],
      memberCount: Math.max(members.size, extras?.memberCount ?? 0),
    },
    contacts: contacts.filter((c) => !c._deleted).sort((x, y) => x.name.localeCompare(y.name)),
    holdings: holdings.sort((x, y) => (x.contractEnd ?? '9999') .localeCompare(y.contractEnd ?? '9999')),
    notes,
    revenue,
    extras,
  };
}

function refToParent(ref: AccountRef): GroupView['parent'] {
  return { id: ref.id, name: ref.name, local: false };
}

export async function loadContact(db: AppDB, id: string): Promise<LocalContact | undefined> {
  const row = await db.get('contacts', id);
  return row && !row._deleted ? row : undefined;
}
