// The mutations of docs/sync.md, and what each one does to the local copy: applied optimistically
// (in the transaction that queues it), replayed over fresh server rows until the server has it,
// and rolled back when the server rejects it.
import type { Account, Contact, DecisionRole, VisitPlan } from '../api/types';
import type { LocalAccount, LocalContact, LocalNote, LocalPlan, LocalVisit, Tx } from '../db/db';
import { todayIso } from '../db/local';
import { distanceM } from '../visits/geo';
import { applySales, isSales, rollBackSales, salesAccountOf, salesRowKey, settleSales, type SalesMutationArgs } from '../sales/mutations';
import { applyTask, isTask, rollBackTask, settleTask, taskAccountOf, taskRowKey, type TaskMutationArgs } from '../work/mutations';

export type AccountChanges = Partial<Pick<Account, 'name' | 'industry' | 'address' | 'city' | 'status' | 'memberLines' | 'notes'>>;
export type ContactChanges = Partial<Pick<Contact, 'name' | 'title' | 'phones' | 'email' | 'decisionRole' | 'notes'>>;

/** Selling's mutations (opportunity.*, quote.*, approval.decide) live in src/sales/mutations.ts. */
export interface MutationArgs extends SalesMutationArgs, TaskMutationArgs {
  /**
   * A prospect, or a new member company under a group (`parentId`). The phone's fix is a proposed
   * pin (`pinLatitude`, `pinLongitude`, `pinAccuracyM`) that a leader confirms, as a check-in's is.
   * `code` may be '' (the server makes one). On arrival the server looks for duplicates and answers
   * `applied` with `code: "possible_duplicate"` and the `candidates`.
   */
  'account.create': {
    id: string;
    code: string;
    name: string;
    status: Account['status'];
    parentId: string | null;
    industry: string;
    address: string;
    city: string;
    notes: string;
    pinLatitude?: number | null;
    pinLongitude?: number | null;
    pinAccuracyM?: number | null;
  };
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
  /** capturedAt is the device's time of the check-in; the push carries sentAt; the server judges. */
  'visit.checkin': {
    id: string;
    accountId: string;
    planId?: string | null;
    latitude?: number | null;
    longitude?: number | null;
    accuracyM?: number | null;
    fixAt?: string | null;
  };
  'visit.checkout': { visitId: string; latitude?: number | null; longitude?: number | null; accuracyM?: number | null };
  'visit.log': {
    visitId: string;
    purpose: string;
    outcome: string;
    contactIds: string[];
    notes: string;
    nextStep: string;
    followUpDate: string | null;
  };
  'plan.create': { id: string; accountId: string; date: string; purpose: string; ownerId?: string | null };
  'plan.update': { id: string; date?: string; purpose?: string; cancelled?: boolean };
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
  if (isSales(m)) return salesRowKey(m);
  if (isTask(m)) return taskRowKey(m);
  switch (m.name) {
    case 'account.create':
    case 'account.update':
      return `accounts:${m.args.id}`;
    case 'account.note':
      return `notes:${m.args.id}`;
    case 'visit.checkin':
      return `visits:${m.args.id}`;
    case 'visit.checkout':
    case 'visit.log':
      return `visits:${m.args.visitId}`;
    case 'plan.create':
    case 'plan.update':
      return `plans:${m.args.id}`;
    default:
      return `contacts:${m.args.id}`;
  }
}

/** The rows whose arrival from the server must replay this mutation. */
export function replayKeys(m: Mutation): string[] {
  if (isSales(m)) return [salesRowKey(m)];
  if (isTask(m)) return [taskRowKey(m)];
  switch (m.name) {
    case 'account.create':
    case 'account.update':
    case 'visit.checkin':
    case 'visit.checkout':
    case 'visit.log':
    case 'plan.create':
    case 'plan.update':
      return [rowKey(m)];
    default:
      return [rowKey(m), `accounts:${m.args.accountId}`];
  }
}

/** The account a mutation concerns ('' when the mutation does not say: a visit's check-out or log, a plan's change). */
export function accountOf(m: Mutation | NewMutation): string {
  if (isSales(m)) return salesAccountOf(m);
  if (isTask(m)) return taskAccountOf(m);
  switch (m.name) {
    case 'account.create':
    case 'account.update':
      return m.args.id;
    case 'visit.checkout':
    case 'visit.log':
    case 'plan.update':
      return '';
    default:
      return m.args.accountId;
  }
}

/** Seconds from check-in to check-out (never negative). */
export function durationSeconds(checkedInAt: string, checkedOutAt: string): number {
  return Math.max(0, Math.round((Date.parse(checkedOutAt) - Date.parse(checkedInAt)) / 1000));
}

/** The device's record of a check-in until the server's verdict arrives. */
export function localVisit(args: MutationArgs['visit.checkin'], capturedAt: string, account: Pick<Account, 'name' | 'latitude' | 'longitude'> | undefined, author: Author | null): LocalVisit {
  const lat = args.latitude ?? null;
  const lon = args.longitude ?? null;
  const hasBoth = lat !== null && lon !== null && account?.latitude != null && account.longitude != null;
  return {
    id: args.id,
    accountId: args.accountId,
    accountName: account?.name ?? '',
    userId: author?.id ?? '',
    userName: author?.name ?? '',
    planId: args.planId ?? null,
    latitude: lat,
    longitude: lon,
    accuracyM: args.accuracyM ?? null,
    fixAt: args.fixAt ?? null,
    deviceAt: capturedAt,
    receivedAt: capturedAt,
    checkedInAt: capturedAt,
    clockSkewS: 0,
    distanceM: hasBoth ? Math.round(distanceM(lat, lon, account.latitude!, account.longitude!)) : null,
    verdict: 'pending',
    flags: [],
    countsForCoverage: false,
    reviewStatus: 'none',
    reviewComment: '',
    reviewedByName: null,
    reviewedAt: null,
    checkedOutAt: null,
    durationS: null,
    purpose: '',
    outcome: '',
    contactIds: [],
    notes: '',
    nextStep: '',
    followUpDate: null,
    hasPhoto: false,
    photoSha256: null,
    _pending: true,
    _local: true,
  };
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
  if (isSales(m)) return applySales(tx, m, author);
  if (isTask(m)) return applyTask(tx, m, author);
  switch (m.name) {
    case 'account.create': {
      const store = tx.objectStore('accounts');
      const existing = await store.get(m.args.id);
      if (existing && existing._base === undefined) return; // the server's copy is here already
      const parent = m.args.parentId ? await store.get(m.args.parentId) : undefined;
      const row: LocalAccount = {
        id: m.args.id,
        code: m.args.code,
        name: m.args.name,
        industry: m.args.industry,
        address: m.args.address,
        city: m.args.city,
        status: m.args.status,
        parentId: m.args.parentId,
        memberLines: 0,
        notes: m.args.notes,
        // The fix is only a proposal until a manager confirms it: no pin yet.
        latitude: null,
        longitude: null,
        visitRadiusM: 300,
        ownerId: author?.id ?? '',
        ownerName: author?.name ?? '',
        orgUnitId: parent?.orgUnitId ?? '',
        orgUnitName: parent?.orgUnitName ?? '',
        tier: null,
        computedTier: null,
        tierOverride: null,
        tierOverrideReason: null,
        revenue12MCents: 0,
        lastVisitedOn: null,
        version: 0,
        createdAt: m.capturedAt,
        updatedAt: m.capturedAt,
        _s: searchText(m.args, []),
        _pending: true,
        _base: null,
      };
      await store.put(row);
      return;
    }
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
    case 'visit.checkin': {
      const store = tx.objectStore('visits');
      if (await store.get(m.args.id)) return; // made here already, or the server's copy is here
      const account = await tx.objectStore('accounts').get(m.args.accountId);
      await store.put(localVisit(m.args, m.capturedAt, account, author));
      // The plan it fulfils: the one named, else (as the server decides) that day's open plan for the account.
      const plans = tx.objectStore('plans');
      let plan = m.args.planId ? await plans.get(m.args.planId) : undefined;
      if (!m.args.planId) {
        const day = todayIso(new Date(m.capturedAt));
        plan = (await plans.index('byDate').getAll(day))
          .filter((p) => p.accountId === m.args.accountId && p.status === 'planned' && (!author || p.ownerId === author.id))
          .sort((x, y) => (x._seq ?? 0) - (y._seq ?? 0))[0];
      }
      if (plan && plan.status !== 'done') await plans.put({ ...plan, status: 'done', visitId: m.args.id });
      return;
    }
    case 'visit.checkout': {
      const store = tx.objectStore('visits');
      const row = await store.get(m.args.visitId);
      if (!row || (row.checkedOutAt && !row._pending)) return; // the server's check-out stands
      row.checkedOutAt = m.capturedAt;
      row.durationS = durationSeconds(row.checkedInAt, m.capturedAt);
      row._pending = true;
      await store.put(row);
      return;
    }
    case 'visit.log': {
      const store = tx.objectStore('visits');
      const row = await store.get(m.args.visitId);
      if (!row) return;
      const { purpose, outcome, contactIds, notes, nextStep, followUpDate } = m.args;
      Object.assign(row, { purpose, outcome, contactIds: [...contactIds], notes, nextStep, followUpDate });
      row._pending = true;
      await store.put(row);
      return;
    }
    case 'plan.create': {
      const store = tx.objectStore('plans');
      if (await store.get(m.args.id)) return;
      const account = await tx.objectStore('accounts').get(m.args.accountId);
      const plan: LocalPlan = {
        id: m.args.id,
        accountId: m.args.accountId,
        accountName: account?.name ?? '',
        accountAddress: account?.address ?? '',
        accountTier: account?.tier ?? null,
        latitude: account?.latitude ?? null,
        longitude: account?.longitude ?? null,
        ownerId: m.args.ownerId ?? author?.id ?? '',
        ownerName: author?.name ?? '',
        date: m.args.date,
        purpose: m.args.purpose,
        status: 'planned',
        visitId: null,
        _seq: Date.parse(m.capturedAt),
        _pending: true,
        _base: null,
      };
      await store.put(plan);
      return;
    }
    case 'plan.update': {
      const store = tx.objectStore('plans');
      const row = await store.get(m.args.id);
      if (!row) return;
      if (row._base === undefined) row._base = serverCopy<VisitPlan>(row);
      if (m.args.date !== undefined) row.date = m.args.date;
      if (m.args.purpose !== undefined) row.purpose = m.args.purpose;
      if (m.args.cancelled !== undefined) row.status = m.args.cancelled ? 'cancelled' : 'planned';
      row._pending = true;
      await store.put(row);
      return;
    }
  }
}

/** Put back the server's copy of the row a rejected mutation changed (or drop a row made here). */
export async function rollBack(tx: Tx, m: Mutation): Promise<void> {
  if (isSales(m)) return rollBackSales(tx, m);
  if (isTask(m)) return rollBackTask(tx, m);
  switch (m.name) {
    case 'account.create': {
      const store = tx.objectStore('accounts');
      const row = await store.get(m.args.id);
      if (row && row._base === null) await store.delete(m.args.id);
      return;
    }
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
    case 'visit.checkin': {
      const store = tx.objectStore('visits');
      const row = await store.get(m.args.id);
      if (row?._local) await store.delete(m.args.id);
      // The plan it marked done is open again (in the server's copy kept under a queued change too).
      const plans = tx.objectStore('plans');
      for (const plan of await plans.getAll()) {
        if (plan.visitId !== m.args.id) continue;
        const reopened = { ...plan, status: 'planned' as const, visitId: null };
        if (plan._base && plan._base.visitId === m.args.id) reopened._base = { ...plan._base, status: 'planned', visitId: null };
        await plans.put(reopened);
      }
      return;
    }
    case 'visit.checkout':
    case 'visit.log': {
      // The server's copy is fetched again (the device's guess of it is wrong).
      const store = tx.objectStore('visits');
      const row = await store.get(m.args.visitId);
      if (row) await store.put({ ...row, _stale: true });
      return;
    }
    case 'plan.create':
    case 'plan.update': {
      const store = tx.objectStore('plans');
      const row = await store.get(m.args.id);
      if (!row || row._base === undefined) return;
      if (row._base === null) await store.delete(row.id);
      else await store.put({ ...row._base, _seq: row._seq });
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
    } else if (store === 'visits') {
      // The server has it now; its verdict comes with GET /api/visits/{id} (see visits/store.ts).
      const row = await tx.objectStore('visits').get(id);
      if (row && (row._pending || row._local)) {
        delete row._pending;
        delete row._local;
        row._stale = true;
        await tx.objectStore('visits').put(row);
      }
    } else if (store === 'plans') {
      const row = await tx.objectStore('plans').get(id);
      if (row && (row._pending || row._base !== undefined)) {
        delete row._pending;
        delete row._base;
        await tx.objectStore('plans').put(row);
      }
    } else if (store === 'notes') {
      const row = await tx.objectStore('notes').get(id);
      if (row && (row._pending || row._base !== undefined)) {
        delete row._pending;
        delete row._base;
        await tx.objectStore('notes').put(row);
      }
    } else if (store === 'tasks') {
      await settleTask(tx, id);
    } else {
      await settleSales(tx, store, id);
    }
  }
}

function splitKey(key: string): [string, string] {
  const at = key.indexOf(':');
  return [key.slice(0, at), key.slice(at + 1)];
}
