// What every screen shares: the database, the API, the sync engine, the signed-in user.
import { createApi, type Api } from './api/client';
import type { LoginResponse, Me } from './api/types';
import { META, getMeta, setMeta, wipeUserData, type AppDB } from './db/db';
import { getLocale, setLocale, type Locale } from './i18n';
import { Emitter } from './lib/events';
import { uuid } from './lib/uuid';
import { SyncEngine } from './sync/engine';
import type { Author, Mutation, NewMutation } from './sync/mutations';
import { enqueue } from './sync/outbox';
import { guardSignOut } from './sync/signout';
import { startScheduler, type Scheduler } from './sync/scheduler';
import type { Updates } from './ui/update';
import { refreshAfterSync } from './visits/store';
import { refreshSalesAfterSync } from './sales/store';

export interface AppEvents extends Record<string, unknown> {
  /** local data changed: screens re-read */
  data: { reset: boolean };
  locale: Locale;
  me: Me | null;
  toast: string;
}

export type LoginOutcome =
  | { ok: true }
  | { ok: false; reason: 'failed' | 'offline' | 'other-user' | 'error'; message?: string };

export class App {
  readonly events = new Emitter<AppEvents>();
  readonly api: Api;
  readonly engine: SyncEngine;
  me: Me | null = null;
  clientId = '';
  scheduler: Scheduler | null = null;
  updates: Updates | null = null;

  constructor(readonly db: AppDB) {
    this.api = createApi();
    this.engine = new SyncEngine({
      db,
      api: this.api,
      author: () => this.author(),
      locks: typeof navigator !== 'undefined' && navigator.locks ? navigator.locks : null,
      online: () => navigator.onLine,
    });
    this.engine.events.on('data', (change) => this.events.emit('data', change));
    // After a sync the server has judged the check-ins made here: fetch its copies, upload photos.
    this.engine.events.on('status', (status) => {
      if (!status.running && status.lastOutcome === 'ok' && this.me) void refreshAfterSync(this);
      // …and the opportunities and quotes it took from this device: its numbers, totals and versions.
      if (!status.running && status.lastOutcome === 'ok' && this.me) void refreshSalesAfterSync(this);
    });
  }

  async load(): Promise<void> {
    this.clientId = (await getMeta<string>(this.db, META.clientId)) ?? '';
    this.me = (await getMeta<Me>(this.db, META.me)) ?? null;
    await this.engine.load();
  }

  author(): Author | null {
    return this.me ? { id: this.me.user.id, name: this.me.user.displayName } : null;
  }

  can(permission: string): boolean {
    return !!this.me?.permissions.includes(permission);
  }

  /** Queue a change (outbox and local copy in one transaction), then sync soon. */
  async save(change: NewMutation): Promise<Mutation> {
    const mutation = await enqueue(this.db, change, this.author());
    await this.engine.refreshCounts();
    this.events.emit('data', { reset: false });
    this.scheduler?.soon();
    return mutation;
  }

  startSync(): void {
    if (!this.scheduler) this.scheduler = startScheduler(this.engine);
    else this.scheduler.now();
  }

  /** Refresh the remembered user; a 401 means the session ended (data and queue stay). */
  async refreshMe(): Promise<void> {
    const result = await this.api.get<Me>('/api/me');
    if (result.ok) {
      this.me = result.data;
      await setMeta(this.db, META.me, result.data);
      this.events.emit('me', this.me);
    } else if (result.status === 401) {
      this.engine.status.lastOutcome = 'auth';
      this.engine.publish();
    }
  }

  async login(username: string, password: string): Promise<LoginOutcome> {
    const result = await this.api.post<LoginResponse>('/api/auth/login', { username, password });
    if (!result.ok) {
      if (result.status === 0) return { ok: false, reason: 'offline' };
      if (result.status === 401 || result.status === 400) return { ok: false, reason: 'failed' };
      return { ok: false, reason: 'error', message: result.problem?.detail ?? `HTTP ${result.status}` };
    }
    const meResult = await this.api.get<Me>('/api/me');
    const me: Me = meResult.ok ? meResult.data : { user: result.data.user, permissions: [] };
    if (this.me && this.me.user.id !== me.user.id) {
      if (this.engine.status.pending > 0 || (await this.db.count('outbox')) > 0) {
        // The waiting changes belong to the other person: do not send them as this one.
        await this.api.post('/api/auth/logout');
        return { ok: false, reason: 'other-user', message: this.me.user.displayName };
      }
      // Someone else signs in on this device: a clean slate and a new client id.
      this.scheduler?.stop();
      this.scheduler = null;
      await this.engine.idle();
      await wipeUserData(this.db, uuid());
      this.clientId = (await getMeta<string>(this.db, META.clientId)) ?? '';
      await this.engine.load();
    }
    this.me = me;
    await setMeta(this.db, META.me, me);
    this.engine.status.lastOutcome = null;
    this.engine.status.message = null;
    this.engine.status.retryAt = null;
    this.events.emit('me', me);
    this.startSync();
    return { ok: true };
  }

  /**
   * Sign out: end the session if the server can be reached, forget everything, new client id.
   * `discard`: how many unsent changes the person agreed to lose (Settings asks first); more waiting
   * than that throws PendingChangesError and nothing is wiped.
   */
  async signOut(discard = 0): Promise<void> {
    await guardSignOut(this.db, discard);
    this.scheduler?.stop();
    this.scheduler = null;
    // A run in progress must not write the old user's rows after the wipe.
    await this.engine.idle();
    try {
      await guardSignOut(this.db, discard);
    } catch (error) {
      this.startSync();
      throw error;
    }
    if (navigator.onLine) await this.api.post('/api/auth/logout');
    this.clientId = uuid();
    await wipeUserData(this.db, this.clientId);
    this.me = null;
    await this.engine.load();
    this.events.emit('me', null);
    this.events.emit('data', { reset: true });
  }

  async setLocale(locale: Locale): Promise<void> {
    if (locale === getLocale()) return;
    setLocale(locale);
    await setMeta(this.db, META.locale, locale);
    this.events.emit('locale', locale);
  }

  toast(message: string): void {
    this.events.emit('toast', message);
  }
}
