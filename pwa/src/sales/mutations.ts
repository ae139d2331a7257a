// The selling mutations of docs/sync.md and what each does to the device's copy: applied at once
// (in the transaction that queues it), replayed over fresh server rows until the server has it,
// rolled back when the server rejects it. Their server copies are fetched again after a sync
// (`_stale`, see store.ts): the server numbers quotes and computes their totals.
import type { CacheRow, Tx } from '../db/db';
import type { Author } from '../sync/mutations';
import { quoteAmounts } from './money';
import type { CasePriority, CaseType, DecisionKind, LocalCase, LocalOpportunity, LocalQuote, Opportunity, OpportunityChanges, Product, Quote, QuoteChanges, QuoteLineIn } from './types';

export const PRODUCTS_KEY = 'sales:products';
export const STAGES_KEY = 'sales:stages';

export interface SalesMutationArgs {
  'opportunity.create': {
    id: string;
    accountId: string;
    name: string;
    stage: string;
    amountCents: number;
    expectedClose: string | null;
    productIds: string[];
    competitor: string;
    nextStep: string;
    lostReason: string;
  };
  'opportunity.update': { id: string; baseVersion: number; changes: OpportunityChanges };
  'quote.create': {
    id: string;
    accountId: string;
    lines: QuoteLineIn[];
    title: string;
    opportunityId: string | null;
    validUntil: string | null;
    notes: string;
  };
  'quote.update': { id: string; baseVersion: number; changes: QuoteChanges };
  /** A decision made offline, on the subject version the decider saw (the server refuses it on any other). */
  'approval.decide': { stepId: string; decision: DecisionKind; subjectVersion: number; comment: string; idempotencyKey?: string };
  /**
   * Submit a draft for approval (queued after its quote.create / quote.update; applied against the
   * quote's state then). `baseVersion`: the server version submitted; null when this device's own
   * edits are queued ahead of it (the server then checks the state only).
   */
  'quote.submit': { id: string; baseVersion: number | null; comment: string };
  /** A new case on an account (the server starts its work order when it arrives). */
  'case.create': { id: string; accountId: string; type: CaseType; priority: CasePriority; title: string; description: string };
}

export type SalesName = keyof SalesMutationArgs;
export type SalesChange = { [N in SalesName]: { name: N; args: SalesMutationArgs[N] } }[SalesName];
export type SalesMutation = { [N in SalesName]: { id: number; name: N; args: SalesMutationArgs[N]; capturedAt: string } }[SalesName];

const NAMES = new Set<string>(['opportunity.create', 'opportunity.update', 'quote.create', 'quote.update', 'quote.submit', 'approval.decide', 'case.create']);

export function isSales<T extends { name: string }>(m: T): m is Extract<T, { name: SalesName }> {
  return NAMES.has(m.name);
}

export function salesRowKey(m: SalesChange): string {
  switch (m.name) {
    case 'opportunity.create':
    case 'opportunity.update':
      return `opportunities:${m.args.id}`;
    case 'quote.create':
    case 'quote.update':
    case 'quote.submit':
      return `quotes:${m.args.id}`;
    case 'approval.decide':
      return `approvals:${m.args.stepId}`;
    case 'case.create':
      return `cases:${m.args.id}`;
  }
}

/** The account a change concerns, when the mutation says ('' when only the row knows). */
export function salesAccountOf(m: SalesChange): string {
  return m.name === 'opportunity.create' || m.name === 'quote.create' || m.name === 'case.create' ? m.args.accountId : '';
}

async function products(tx: Tx): Promise<Map<string, Product>> {
  const row = (await tx.objectStore('cache').get(PRODUCTS_KEY)) as CacheRow | undefined;
  return new Map(((row?.data as Product[] | undefined) ?? []).map((p) => [p.id, p]));
}

/** The device's idea of a quote's lines and totals (the server's come after the next sync). */
export function previewLines(lines: readonly QuoteLineIn[], catalogue: ReadonlyMap<string, Product>, keep: Quote['lines'] = []): Pick<Quote, 'lines' | 'listTotalCents' | 'totalCents' | 'discountBp'> {
  const known = new Map(keep.filter((l) => l.productId).map((l) => [l.productId!, l]));
  const inputs = lines.map((l) => {
    const product = catalogue.get(l.productId);
    const before = known.get(l.productId);
    const listPriceCents = product?.listPriceCents ?? before?.listPriceCents ?? 0;
    return { quantity: l.quantity, listPriceCents, unitPriceCents: l.unitPriceCents ?? listPriceCents, discountBp: l.discountBp };
  });
  const amounts = quoteAmounts(inputs);
  return {
    lines: lines.map((l, i) => {
      const product = catalogue.get(l.productId);
      const before = known.get(l.productId);
      const a = amounts.lines[i]!;
      return {
        id: `${l.productId}:${i}`,
        position: i + 1,
        productId: l.productId,
        productCode: product?.code ?? before?.productCode ?? '',
        productName: product?.name ?? before?.productName ?? '',
        unit: product?.unit ?? before?.unit ?? '',
        quantity: l.quantity,
        listPriceCents: inputs[i]!.listPriceCents,
        unitPriceCents: inputs[i]!.unitPriceCents,
        discountBp: l.discountBp,
        maxDiscountBp: product?.maxDiscountBp ?? before?.maxDiscountBp ?? 0,
        discountCents: a.discountCents,
        totalCents: a.totalCents,
      };
    }),
    listTotalCents: amounts.listTotalCents,
    totalCents: amounts.totalCents,
    discountBp: amounts.discountBp,
  };
}

function serverPart<T extends object>(row: T & { _pending?: boolean; _base?: unknown; _stale?: boolean }): T {
  const { _pending, _base, _stale, ...rest } = row;
  void _pending;
  void _base;
  void _stale;
  return rest as unknown as T;
}

export async function applySales(tx: Tx, m: SalesMutation, author: Author | null): Promise<void> {
  switch (m.name) {
    case 'opportunity.create': {
      const store = tx.objectStore('opportunities');
      const existing = await store.get(m.args.id);
      if (existing && existing._base === undefined) return; // the server's copy is here already
      const account = await tx.objectStore('accounts').get(m.args.accountId);
      const stages = ((await tx.objectStore('cache').get(STAGES_KEY))?.data as { key: string; probability: number }[] | undefined) ?? [];
      const probability = stages.find((s) => s.key === m.args.stage)?.probability ?? 0;
      const row: LocalOpportunity = {
        ...m.args,
        productIds: [...m.args.productIds],
        accountName: account?.name ?? '',
        ownerId: account?.ownerId ?? author?.id ?? '',
        ownerName: account?.ownerName ?? author?.name ?? '',
        probability,
        weightedCents: Math.round((m.args.amountCents * probability) / 100),
        closedAt: null,
        version: 0,
        createdAt: m.capturedAt,
        updatedAt: m.capturedAt,
        _pending: true,
        _base: null,
      };
      await store.put(row);
      return;
    }
    case 'opportunity.update': {
      const store = tx.objectStore('opportunities');
      const row = await store.get(m.args.id);
      if (!row) return;
      if (row._base === undefined) row._base = serverPart<Opportunity>(row);
      Object.assign(row, m.args.changes);
      if (m.args.changes.stage !== undefined && m.args.changes.probability === undefined) {
        const stages = ((await tx.objectStore('cache').get(STAGES_KEY))?.data as { key: string; probability: number }[] | undefined) ?? [];
        const stage = stages.find((s) => s.key === m.args.changes.stage);
        if (stage) row.probability = stage.probability;
      }
      row.weightedCents = Math.round((row.amountCents * row.probability) / 100);
      row._pending = true;
      await store.put(row);
      return;
    }
    case 'quote.create': {
      const store = tx.objectStore('quotes');
      const existing = await store.get(m.args.id);
      if (existing && existing._base === undefined) return;
      const account = await tx.objectStore('accounts').get(m.args.accountId);
      const row: LocalQuote = {
        id: m.args.id,
        number: '',
        revision: 1,
        previousId: null,
        accountId: m.args.accountId,
        accountName: account?.name ?? '',
        opportunityId: m.args.opportunityId,
        ownerId: account?.ownerId ?? author?.id ?? '',
        ownerName: account?.ownerName ?? author?.name ?? '',
        title: m.args.title,
        state: 'draft',
        stateComment: '',
        validUntil: m.args.validUntil,
        notes: m.args.notes,
        currency: 'CNY',
        deepestExcessBp: 0,
        submittedAt: null,
        decidedAt: null,
        version: 0,
        createdAt: m.capturedAt,
        updatedAt: m.capturedAt,
        ...previewLines(m.args.lines, await products(tx)),
        _pending: true,
        _base: null,
      };
      await store.put(row);
      return;
    }
    case 'quote.update': {
      const store = tx.objectStore('quotes');
      const row = await store.get(m.args.id);
      if (!row || row.state !== 'draft') return; // the server makes a new revision of it; its copy comes after the sync
      if (row._base === undefined) row._base = serverPart<Quote>(row);
      const { lines, ...rest } = m.args.changes;
      Object.assign(row, rest);
      if (lines) Object.assign(row, previewLines(lines, await products(tx), row.lines));
      row._pending = true;
      await store.put(row);
      return;
    }
    case 'quote.submit': {
      // Shown as submitted at once (waiting to sync); the server decides whether it needs approval.
      const store = tx.objectStore('quotes');
      const row = await store.get(m.args.id);
      if (!row || row.state !== 'draft') return;
      if (row._base === undefined) row._base = serverPart<Quote>(row);
      row.state = 'submitted';
      row.submittedAt = m.capturedAt;
      row._pending = true;
      await store.put(row);
      return;
    }
    case 'case.create': {
      const store = tx.objectStore('cases');
      const existing = await store.get(m.args.id);
      if (existing && existing._base === undefined) return; // the server's copy is here already
      const account = await tx.objectStore('accounts').get(m.args.accountId);
      const row: LocalCase = {
        id: m.args.id,
        accountId: m.args.accountId,
        accountName: account?.name ?? '',
        ownerId: account?.ownerId ?? author?.id ?? '',
        ownerName: account?.ownerName ?? author?.name ?? '',
        type: m.args.type,
        priority: m.args.priority,
        title: m.args.title,
        description: m.args.description,
        state: 'open',
        lastStep: '',
        overdue: false,
        dueAt: m.capturedAt,
        resolvedAt: null,
        steps: [],
        version: 0,
        createdAt: m.capturedAt,
        updatedAt: m.capturedAt,
        kind: 'case',
        _pending: true,
        _base: null,
      };
      await store.put(row);
      return;
    }
    case 'approval.decide':
      return; // the inbox reads the outbox: the step shows "decided here, waiting to send"
  }
}

export async function rollBackSales(tx: Tx, m: SalesMutation): Promise<void> {
  if (m.name === 'approval.decide') return;
  if (m.name === 'quote.submit') {
    // The draft stays (its create or edits may well have been applied): back to draft, fetched again.
    const quotes = tx.objectStore('quotes');
    const row = await quotes.get(m.args.id);
    if (row && row.state === 'submitted' && row._pending) await quotes.put({ ...row, state: 'draft', submittedAt: null, _stale: true });
    return;
  }
  const storeName = m.name === 'case.create' ? 'cases' : m.name.startsWith('quote') ? 'quotes' : 'opportunities';
  const store = tx.objectStore(storeName) as unknown as {
    get(id: string): Promise<(LocalQuote | LocalOpportunity | LocalCase) | undefined>;
    put(row: LocalQuote | LocalOpportunity | LocalCase): Promise<unknown>;
    delete(id: string): Promise<void>;
  };
  const row = await store.get(m.args.id);
  if (!row || row._base === undefined) return;
  if (row._base === null) await store.delete(row.id);
  else await store.put({ ...row._base });
}

/** The server has every queued change of this row: fetch its copy (numbers, totals, versions). */
export async function settleSales(tx: Tx, storeName: string, id: string): Promise<void> {
  if (storeName !== 'opportunities' && storeName !== 'quotes' && storeName !== 'cases') return;
  const store = tx.objectStore(storeName) as unknown as {
    get(id: string): Promise<(LocalQuote | LocalOpportunity | LocalCase) | undefined>;
    put(row: LocalQuote | LocalOpportunity | LocalCase): Promise<unknown>;
  };
  const row = await store.get(id);
  if (!row) return;
  delete row._pending;
  delete row._base;
  row._stale = true;
  await store.put(row);
}
