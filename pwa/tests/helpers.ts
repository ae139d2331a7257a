import 'fake-indexeddb/auto';
import type { Api, ApiResult } from '../src/api/client';
import type { Account, Contact, Holding, Note, PullResponse, PushResponse } from '../src/api/types';
import { openAppDb, type AppDB } from '../src/db/db';
import { SyncEngine } from '../src/sync/engine';
import type { Mutation } from '../src/sync/mutations';

let counter = 0;

export async function freshDb(): Promise<AppDB> {
  const db = await openAppDb({ name: `test-${Date.now()}-${counter++}` });
  await db.put('meta', 'client-1', 'clientId');
  return db;
}

export function account(overrides: Partial<Account> = {}): Account {
  const id = overrides.id ?? `acc-${counter++}`;
  return {
    id,
    code: `C${id}`,
    name: `Account ${id}`,
    industry: '制造',
    tier: 'B',
    computedTier: 'B',
    tierOverride: null,
    tierOverrideReason: null,
    revenue12MCents: 100_000,
    ownerId: 'u-rep',
    ownerName: '钱萍',
    orgUnitId: 'ou-1',
    orgUnitName: 'Team',
    address: '',
    city: '济南',
    latitude: null,
    longitude: null,
    visitRadiusM: 300,
    status: 'active',
    parentId: null,
    memberLines: 3,
    notes: '',
    version: 1,
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
    ...overrides,
  };
}

export function contact(accountId: string, overrides: Partial<Contact> = {}): Contact {
  const id = overrides.id ?? `con-${counter++}`;
  return {
    id,
    accountId,
    name: `Contact ${id}`,
    title: '',
    phones: [],
    email: null,
    decisionRole: 'user',
    notes: '',
    version: 1,
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
    ...overrides,
  };
}

export function holding(accountId: string, overrides: Partial<Holding> = {}): Holding {
  const id = overrides.id ?? `hol-${counter++}`;
  return {
    id,
    accountId,
    productCode: 'ZX',
    product: 'Line',
    quantity: 1,
    monthlyFeeCents: 1000,
    contractStart: null,
    contractEnd: null,
    endsInDays: null,
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
    ...overrides,
  };
}

export function note(accountId: string, overrides: Partial<Note> = {}): Note {
  return {
    id: overrides.id ?? `note-${counter++}`,
    accountId,
    text: 'a note',
    authorId: 'u-rep',
    authorName: '钱萍',
    capturedAt: null,
    createdAt: '2026-01-01T00:00:00Z',
    ...overrides,
  };
}

export type PageInput = Partial<Omit<PullResponse, 'deletes'>> & { deletes?: Partial<PullResponse['deletes']> };

/** A pull response with empty lists where the test says nothing. */
export function page(input: PageInput = {}): PullResponse {
  const { deletes, ...rest } = input;
  return {
    cursor: '1',
    reset: false,
    more: false,
    accounts: [],
    contacts: [],
    holdings: [],
    notes: [],
    revenue: [],
    ...rest,
    deletes: { accounts: [], contacts: [], holdings: [], notes: [], ...deletes },
  };
}

type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | 'network';

export interface Call {
  method: string;
  path: string;
  body: unknown;
}

/** An Api double: each path answers from a handler; every call is recorded. */
export class FakeApi implements Api {
  calls: Call[] = [];
  push: (body: { clientId: string; mutations: Mutation[] }) => Reply = (body) => ({
    status: 200,
    body: {
      lastMutationId: body.mutations.at(-1)?.id ?? 0,
      results: body.mutations.map((m) => ({ id: m.id, status: 'applied' })),
    } satisfies PushResponse,
  });
  pull: (body: { clientId: string; cursor: string | null }) => Reply = (body) => ({ status: 200, body: page({ cursor: body.cursor ?? '1' }) });
  rejections: () => Reply = () => ({ status: 200, body: { items: [] } });

  private answer<T>(reply: Reply): ApiResult<T> {
    if (reply === 'network') return { ok: false, status: 0, problem: null, retryAfterMs: null, network: true };
    if (reply.status < 300) return { ok: true, status: reply.status, data: reply.body as T };
    const retry = reply.headers?.['Retry-After'];
    return {
      ok: false,
      status: reply.status,
      problem: (reply.body ?? null) as never,
      retryAfterMs: retry ? Number(retry) * 1000 : null,
    };
  }

  async get<T>(path: string): Promise<ApiResult<T>> {
    this.calls.push({ method: 'GET', path, body: undefined });
    if (path.startsWith('/api/sync/rejections')) return this.answer<T>(this.rejections());
    return this.answer<T>({ status: 404 });
  }

  async post<T>(path: string, body?: unknown): Promise<ApiResult<T>> {
    // A deep copy, as JSON on the wire would be.
    const sent = JSON.parse(JSON.stringify(body ?? null));
    this.calls.push({ method: 'POST', path, body: sent });
    if (path === '/api/sync/push') return this.answer<T>(this.push(sent));
    if (path === '/api/sync/pull') return this.answer<T>(this.pull(sent));
    return this.answer<T>({ status: 404 });
  }

  async send<T>(method: string, path: string, body?: unknown): Promise<ApiResult<T>> {
    if (method === 'GET') return this.get<T>(path);
    if (method === 'POST') return this.post<T>(path, body);
    this.calls.push({ method, path, body });
    return this.answer<T>({ status: 404 });
  }

  pushes(): { clientId: string; mutations: Mutation[] }[] {
    return this.calls.filter((c) => c.path === '/api/sync/push').map((c) => c.body as { clientId: string; mutations: Mutation[] });
  }

  pulls(): { clientId: string; cursor: string | null }[] {
    return this.calls.filter((c) => c.path === '/api/sync/pull').map((c) => c.body as { clientId: string; cursor: string | null });
  }
}

export function engine(db: AppDB, api: FakeApi, now?: () => number): SyncEngine {
  return new SyncEngine({ db, api, author: () => ({ id: 'u-rep', name: '钱萍' }), now: now ?? Date.now });
}
