// The sync loop: push the outbox in order, then pull what changed. One run at a time (a Web Lock
// across tabs, a promise within one), never throwing: each run ends in an outcome the status bar
// shows. The queue is kept through every failure; only the server's answer removes a mutation.
import type { Api, ApiResult } from '../api/client';
import type { MutationResult, PullResponse, PushResponse, RejectionRecord } from '../api/types';
import { META, type AppDB, type DuplicateCandidate, type RejectedMutation } from '../db/db';
import { Emitter } from '../lib/events';
import { rollBack, replay, replayKeys, rowKey, settle, type Author, type Mutation } from './mutations';
import { writeTx } from './outbox';
import { applyPullPage } from './pull';

export const PUSH_BATCH = 500;
export const LOCK_NAME = 'fieldcrm-sync';

export type Outcome =
  | 'ok'
  /** no answer from the network */
  | 'offline'
  /** the server is busy (503 Retry-After) or failing: wait until retryAt */
  | 'backoff'
  /** the session ended: sign in again (the queue is kept) */
  | 'auth'
  /** this client id belongs to another user: sign out to start a new one */
  | 'client-conflict'
  /** another tab is syncing */
  | 'busy';

export interface SyncStatus {
  running: boolean;
  online: boolean;
  pending: number;
  rejected: number;
  lastSyncAt: string | null;
  lastOutcome: Outcome | null;
  retryAt: number | null;
  message: string | null;
}

export interface RunSummary {
  outcome: Outcome;
  applied: number;
  rejected: number;
  pulledPages: number;
}

export interface EngineEvents extends Record<string, unknown> {
  status: SyncStatus;
  /** local data changed (a pull page, a rollback) */
  data: { reset: boolean };
}

export interface EngineOptions {
  db: AppDB;
  api: Api;
  author: () => Author | null;
  now?: () => number;
  /** navigator.locks where there is one */
  locks?: Pick<LockManager, 'request'> | null;
  online?: () => boolean;
}

const ERROR_BACKOFF_MS = [15_000, 30_000, 60_000, 120_000, 300_000, 900_000];
const DEFAULT_RETRY_MS = 30_000;

type Failure = Extract<ApiResult<unknown>, { ok: false }>;

export class SyncEngine {
  readonly events = new Emitter<EngineEvents>();
  readonly status: SyncStatus = {
    running: false,
    online: true,
    pending: 0,
    rejected: 0,
    lastSyncAt: null,
    lastOutcome: null,
    retryAt: null,
    message: null,
  };
  private current: Promise<RunSummary> | null = null;
  private errorStreak = 0;
  private readonly db: AppDB;
  private readonly api: Api;
  private readonly now: () => number;

  constructor(private readonly options: EngineOptions) {
    this.db = options.db;
    this.api = options.api;
    this.now = options.now ?? Date.now;
  }

  /** Read counts and the last sync time from the database. */
  async load(): Promise<void> {
    this.status.lastSyncAt = ((await this.db.get('meta', META.lastSyncAt)) as string | undefined) ?? null;
    this.status.online = this.options.online?.() ?? true;
    this.status.lastOutcome = null;
    this.status.message = null;
    this.status.retryAt = null;
    await this.refreshCounts();
  }

  async refreshCounts(): Promise<void> {
    const [pending, rejected] = await Promise.all([this.db.count('outbox'), this.db.count('rejected')]);
    this.status.pending = pending;
    this.status.rejected = rejected;
    this.publish();
  }

  publish(): void {
    this.events.emit('status', { ...this.status });
  }

  /** Whether a run now would only wait out a back-off. */
  waiting(): boolean {
    return this.status.retryAt !== null && this.now() < this.status.retryAt;
  }

  /** Resolves when no run is in progress (before wiping the database, say). */
  async idle(): Promise<void> {
    await this.current?.catch(() => undefined);
  }

  /** Run once, or join the run in progress. */
  run(): Promise<RunSummary> {
    if (!this.current) {
      this.current = this.locked().finally(() => {
        this.current = null;
      });
    }
    return this.current;
  }

  private async locked(): Promise<RunSummary> {
    const locks = this.options.locks;
    if (!locks) return this.runOnce();
    return locks.request(LOCK_NAME, { ifAvailable: true }, async (lock) =>
      lock ? this.runOnce() : { outcome: 'busy' as const, applied: 0, rejected: 0, pulledPages: 0 },
    );
  }

  private async runOnce(): Promise<RunSummary> {
    const summary: RunSummary = { outcome: 'ok', applied: 0, rejected: 0, pulledPages: 0 };
    if (this.waiting()) {
      summary.outcome = 'backoff';
      return summary;
    }
    this.status.running = true;
    this.publish();
    try {
      const clientId = (await this.db.get('meta', META.clientId)) as string | undefined;
      if (!clientId) throw new Error('no client id');
      const pushed = await this.push(clientId, summary);
      if (pushed) summary.outcome = pushed;
      else {
        const pulled = await this.pull(clientId, summary);
        if (pulled) summary.outcome = pulled;
      }
    } catch (error) {
      console.error('sync failed', error);
      summary.outcome = this.fail(null, error instanceof Error ? error.message : String(error));
    } finally {
      this.status.running = false;
    }
    if (summary.outcome === 'ok') {
      this.errorStreak = 0;
      this.status.retryAt = null;
      this.status.message = null;
      this.status.lastSyncAt = new Date(this.now()).toISOString();
      await this.db.put('meta', this.status.lastSyncAt, META.lastSyncAt);
    }
    this.status.lastOutcome = summary.outcome;
    await this.refreshCounts();
    return summary;
  }

  /** Turn a failed answer into an outcome (and a back-off where one is due). */
  private fail(result: Failure | null, message?: string): Outcome {
    if (result && result.status === 0) {
      this.status.online = false;
      this.status.message = null;
      return 'offline';
    }
    const status = result?.status ?? -1;
    if (result) this.status.online = true; // the server answered
    const detail = result?.problem?.detail ?? message ?? `HTTP ${status}`;
    this.status.message = detail;
    if (status === 401) return 'auth';
    if (status === 403) {
      const code = result?.problem?.code ?? '';
      // A CSRF failure is a session problem; anything else is the client id bound to another user.
      if (code === 'csrf' || /csrf/i.test(detail)) return 'auth';
      return 'client-conflict';
    }
    let wait: number;
    if (status === 503 || status === 429) {
      wait = result?.retryAfterMs ?? DEFAULT_RETRY_MS;
    } else {
      wait = ERROR_BACKOFF_MS[Math.min(this.errorStreak, ERROR_BACKOFF_MS.length - 1)]!;
      this.errorStreak++;
    }
    this.status.retryAt = this.now() + wait;
    return 'backoff';
  }

  private async push(clientId: string, summary: RunSummary): Promise<Outcome | null> {
    let stalled = 0;
    for (;;) {
      const batch = await this.db.getAll('outbox', null, PUSH_BATCH);
      if (batch.length === 0) return null;
      const result = await this.api.post<PushResponse>('/api/sync/push', {
        clientId,
        // The device's clock as the request leaves: with each mutation's capturedAt the server
        // tells how long it waited offline and whether the device's clock is off.
        sentAt: new Date(this.now()).toISOString(),
        mutations: batch.map(({ id, name, args, capturedAt }) => ({ id, name, args, capturedAt })),
      });
      if (!result.ok) return this.fail(result);
      this.status.online = true;
      const progressed = await this.resolve(batch, result.data, summary, clientId);
      if (!progressed) {
        // A gap: the server waits for lastMutationId + 1 and we do not have it. Number the queue
        // from there (the server never saw these) and send again, once.
        if (stalled++ > 0 || !(await this.renumber(result.data.lastMutationId))) {
          return this.fail(null, `the server stopped at change ${result.data.lastMutationId}`);
        }
      } else stalled = 0;
    }
  }

  /** Record the server's answer; true when at least one mutation left the queue. */
  private async resolve(batch: Mutation[], response: PushResponse, summary: RunSummary, clientId: string): Promise<boolean> {
    const byId = new Map(batch.map((m) => [m.id, m]));
    const results = new Map<number, MutationResult>();
    for (const r of response.results ?? []) if (byId.has(r.id)) results.set(r.id, r);
    // A mutation at or below lastMutationId with no result was handled before.
    for (const m of batch) {
      if (!results.has(m.id) && m.id <= response.lastMutationId) results.set(m.id, { id: m.id, status: 'skipped' });
    }
    // "skipped" means handled before: if that earlier answer was lost, the server kept it in the rejections.
    if ([...results.values()].some((r) => r.status === 'skipped')) {
      const earlier = await this.earlierRejections(clientId);
      for (const [id, r] of results) {
        const rejection = r.status === 'skipped' ? earlier.get(id) : undefined;
        if (rejection) {
          const next: MutationResult = { id, status: 'rejected', code: rejection.code, message: rejection.message };
          if (rejection.conflicts) next.conflicts = rejection.conflicts;
          results.set(id, next);
        }
      }
    }

    const tx = writeTx(this.db);
    const outbox = tx.objectStore('outbox');
    const rejectedStore = tx.objectStore('rejected');
    const done: Mutation[] = [];
    const rejected: Mutation[] = [];
    const at = new Date(this.now()).toISOString();
    for (const m of batch) {
      const r = results.get(m.id);
      if (!r) continue;
      await outbox.delete(m.id);
      done.push(m);
      if (r.status === 'rejected') {
        rejected.push(m);
        const record: RejectedMutation = {
          mutation: m,
          code: r.code ?? 'rejected',
          message: r.message ?? '',
          conflicts: r.conflicts,
          rejectedAt: at,
        };
        await rejectedStore.add(record);
      } else if (r.conflicts) {
        // Applied, but not as sent (an opportunity's guarded field kept by the server, a quote edit
        // kept as a new revision): listed with the rejections so the person sees it and picks.
        await rejectedStore.add({ mutation: m, code: r.code ?? 'conflict', message: r.message ?? '', conflicts: r.conflicts, rejectedAt: at, applied: true });
      } else if (r.code === 'possible_duplicate') {
        // A new account the server took but that may repeat one it has: the rep keeps it or opens the other.
        const candidates = (r as MutationResult & { candidates?: DuplicateCandidate[] | null }).candidates ?? [];
        await rejectedStore.add({ mutation: m, code: r.code, message: r.message ?? '', candidates, rejectedAt: at, applied: true });
      }
    }
    for (const m of rejected) await rollBack(tx, m);
    const author = this.options.author();
    if (rejected.length) await replay(tx, new Set(rejected.flatMap(replayKeys)), author);
    await settle(tx, new Set(done.map(rowKey)));
    const meta = tx.objectStore('meta');
    const next = ((await meta.get(META.nextMutationId)) as number | undefined) ?? 1;
    if (next <= response.lastMutationId) await meta.put(response.lastMutationId + 1, META.nextMutationId);
    await tx.done;

    summary.applied += done.length - rejected.length;
    summary.rejected += rejected.length;
    if (rejected.length) this.events.emit('data', { reset: false });
    else if (done.length) this.events.emit('data', { reset: false });
    return done.length > 0;
  }

  private async earlierRejections(clientId: string): Promise<Map<number, RejectionRecord>> {
    const found = new Map<number, RejectionRecord>();
    const result = await this.api.get<{ items: RejectionRecord[] }>(
      `/api/sync/rejections?clientId=${encodeURIComponent(clientId)}&limit=100`,
    );
    if (!result.ok) return found;
    for (const item of result.data?.items ?? []) found.set(item.mutationId, item);
    return found;
  }

  /** Renumber the queue to start right after the server's last mutation id. */
  private async renumber(lastMutationId: number): Promise<boolean> {
    const tx = writeTx(this.db);
    const outbox = tx.objectStore('outbox');
    const queued = await outbox.getAll();
    if (queued.length === 0 || queued[0]!.id <= lastMutationId + 1) {
      await tx.done;
      return false;
    }
    await outbox.clear();
    let id = lastMutationId + 1;
    for (const m of queued) await outbox.add({ ...m, id: id++ });
    await tx.objectStore('meta').put(id, META.nextMutationId);
    await tx.done;
    return true;
  }

  private async pull(clientId: string, summary: RunSummary): Promise<Outcome | null> {
    let cursor = ((await this.db.get('meta', META.cursor)) as string | null | undefined) ?? null;
    let inSnapshot = ((await this.db.get('meta', META.inSnapshot)) as boolean | undefined) ?? false;
    for (let page = 0; page < 10_000; page++) {
      const result = await this.api.post<PullResponse>('/api/sync/pull', { clientId, cursor });
      if (!result.ok) return this.fail(result);
      this.status.online = true;
      const body = result.data;
      // Only the first page of a reset clears the local copy; its later pages add to it.
      const clearFirst = body.reset && !inSnapshot;
      inSnapshot = (body.reset || inSnapshot) && body.more;
      await applyPullPage(this.db, body, { clearFirst, inSnapshot, author: this.options.author() });
      summary.pulledPages++;
      cursor = body.cursor;
      const changed =
        clearFirst ||
        (['accounts', 'contacts', 'holdings', 'notes', 'revenue', 'plans', 'visits', 'opportunities', 'quotes', 'cases', 'projects', 'tasks'] as const).some(
          (kind) => (body[kind]?.length ?? 0) > 0,
        ) ||
        Object.values(body.deletes ?? {}).some((ids) => (ids?.length ?? 0) > 0);
      if (changed) this.events.emit('data', { reset: clearFirst });
      if (!body.more) return null;
    }
    return null;
  }
}
