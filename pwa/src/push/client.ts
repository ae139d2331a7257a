// Web Push on the page: whether this device can get notifications, asking for permission at a
// moment that makes sense (after sign-in, with a reason; on iPhone first "Add to Home Screen"),
// subscribing with the server's key, registering the subscription, and acting on what the service
// worker says (open a route, pull fresh state: a push is only a hint).
import type { App } from '../app';
import { CSRF_COOKIE, readCookie } from '../api/client';
import { t } from '../i18n';
import { h } from '../ui/dom';
import { getValue, setValue } from './store';

export type PushState = 'unsupported' | 'ios-home-screen' | 'blocked' | 'off' | 'on';

export interface PushDevice {
  id: string;
  pushService: string;
  userAgent: string;
  createdAt: string;
  lastSuccessAt: string | null;
}

export interface QuietHours {
  start: string;
  end: string;
}

export interface PushPreferences {
  approvals: boolean;
  slaWarnings: boolean;
  assignments: boolean;
  dailyDigest: boolean;
  quietHours: QuietHours | null;
  timezone: string;
}

const PROMPT_KEY = 'fieldcrm.push.prompt';
const PROMPT_PAUSE_MS = 14 * 24 * 3600 * 1000;

export function isIos(nav: Navigator = navigator): boolean {
  return /iPad|iPhone|iPod/.test(nav.userAgent) || (nav.platform === 'MacIntel' && nav.maxTouchPoints > 1);
}

export function isStandalone(): boolean {
  const nav = navigator as Navigator & { standalone?: boolean };
  return nav.standalone === true || window.matchMedia?.('(display-mode: standalone)').matches === true;
}

function supported(): boolean {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

/** What this device can do about notifications now. */
export async function pushState(): Promise<PushState> {
  // iOS and iPadOS give Web Push only to a web app added to the Home Screen (16.4 and later).
  if (isIos() && !isStandalone()) return 'ios-home-screen';
  if (!supported()) return 'unsupported';
  if (Notification.permission === 'denied') return 'blocked';
  if (Notification.permission !== 'granted') return 'off';
  const registration = await navigator.serviceWorker.getRegistration();
  const subscription = await registration?.pushManager.getSubscription();
  return subscription ? 'on' : 'off';
}

function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (base64url.length % 4)) % 4);
  const raw = atob(base64);
  const bytes = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i += 1) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

function sameKey(current: ArrayBuffer | null | undefined, wanted: Uint8Array): boolean {
  if (!current) return false;
  const have = new Uint8Array(current);
  return have.length === wanted.length && have.every((b, i) => b === wanted[i]);
}

function deviceName(): string {
  const ua = navigator.userAgent;
  const os = /Android/.test(ua) ? 'Android' : isIos() ? 'iOS' : /Windows/.test(ua) ? 'Windows' : /Mac OS X/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : '';
  const browser = /Edg\//.test(ua) ? 'Edge' : /Firefox\//.test(ua) ? 'Firefox' : /Chrome\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : '';
  return [browser, os].filter(Boolean).join(' · ').slice(0, 200) || ua.slice(0, 200);
}

/** The service worker reads the CSRF token from here (it cannot read cookies in every browser). */
export async function rememberCsrf(): Promise<void> {
  try {
    await setValue('csrf', readCookie(CSRF_COOKIE));
  } catch {
    /* private mode without IndexedDB: Approve from a notification then opens the app instead */
  }
}

async function register(app: App, subscription: PushSubscription): Promise<{ ok: true } | { ok: false; message: string }> {
  const result = await app.api.post<PushDevice>('/api/push/subscriptions', { ...subscription.toJSON(), userAgent: deviceName() });
  if (!result.ok) return { ok: false, message: result.status === 0 ? t('push.needsNetwork') : (result.problem?.detail ?? `HTTP ${result.status}`) };
  await setValue('deviceId', result.data.id);
  await rememberCsrf();
  return { ok: true };
}

/** Ask for permission (call from a tap), subscribe with the server's key and register this device. */
export async function enablePush(app: App): Promise<{ ok: true } | { ok: false; message: string }> {
  if (isIos() && !isStandalone()) return { ok: false, message: t('push.iosHomeScreen') };
  if (!supported()) return { ok: false, message: t('push.unsupported') };
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') return { ok: false, message: t(permission === 'denied' ? 'push.blocked' : 'push.notNow') };
  const key = await app.api.get<{ publicKey: string }>('/api/push/public-key');
  if (!key.ok) return { ok: false, message: key.status === 0 ? t('push.needsNetwork') : (key.problem?.detail ?? `HTTP ${key.status}`) };
  const applicationServerKey = keyBytes(key.data.publicKey);
  const registration = await navigator.serviceWorker.ready;
  let subscription = await registration.pushManager.getSubscription();
  if (subscription && !sameKey(subscription.options.applicationServerKey, applicationServerKey)) {
    await subscription.unsubscribe(); // made with another server key: it can never work
    subscription = null;
  }
  try {
    subscription ??= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey });
  } catch (error) {
    return { ok: false, message: t('push.subscribeFailed', { reason: String(error) }) };
  }
  return register(app, subscription);
}

/** Stop notifications on this device (the server forgets it, the browser drops the subscription). */
export async function disablePush(app: App): Promise<void> {
  const id = await getValue('deviceId');
  if (id) await app.api.send('DELETE', `/api/push/subscriptions/${encodeURIComponent(id)}`);
  const registration = await navigator.serviceWorker?.getRegistration();
  await (await registration?.pushManager.getSubscription())?.unsubscribe();
  await setValue('deviceId', null);
}

/** On every start while signed in: register the current subscription again (it may be new, or the user may be). */
async function resync(app: App): Promise<void> {
  if (!app.me || !navigator.onLine || !supported() || Notification.permission !== 'granted') return;
  const registration = await navigator.serviceWorker.getRegistration();
  const subscription = await registration?.pushManager.getSubscription();
  if (subscription) await register(app, subscription);
}

function flushDecisions(): void {
  navigator.serviceWorker?.controller?.postMessage({ type: 'FLUSH_DECISIONS' });
}

function promptPaused(): boolean {
  const until = Number(localStorage.getItem(PROMPT_KEY) ?? 0);
  return Number.isFinite(until) && until > Date.now();
}

function pausePrompt(): void {
  localStorage.setItem(PROMPT_KEY, String(Date.now() + PROMPT_PAUSE_MS));
}

/** The card that explains why and asks, shown once signed in (not again for two weeks after "Not now"). */
async function maybePrompt(app: App): Promise<void> {
  document.querySelector('[data-testid="push-prompt"]')?.remove();
  if (!app.me || promptPaused()) return;
  const state = await pushState();
  if (state !== 'off' && state !== 'ios-home-screen') return;
  const status = h('p', { class: 'muted small', role: 'status', testid: 'push-prompt-status' });
  const later = h('button', { type: 'button', class: 'btn', testid: 'push-later' }, t(state === 'off' ? 'push.later' : 'push.ok'));
  const card = h(
    'aside',
    { class: 'card', testid: 'push-prompt', role: 'dialog', 'aria-labelledby': 'push-prompt-title' },
    h('h2', { class: 'card-title', id: 'push-prompt-title' }, t('push.promptTitle')),
    h('p', null, t(state === 'off' ? 'push.promptWhy' : 'push.iosHomeScreen')),
    h(
      'div',
      { class: 'row' },
      state === 'off'
        ? h(
            'button',
            {
              type: 'button',
              class: 'btn btn-primary',
              testid: 'push-enable',
              onclick: async () => {
                const result = await enablePush(app);
                if (result.ok) {
                  card.remove();
                  app.toast(t('push.enabled'));
                } else {
                  status.textContent = result.message;
                  pausePrompt();
                }
              },
            },
            t('push.enable'),
          )
        : null,
      later,
    ),
    status,
  );
  later.addEventListener('click', () => {
    pausePrompt();
    card.remove();
  });
  // In the shell's prompt slot, above the screen: it never covers what the screen offers (Approve, Reject).
  card.classList.add('push-prompt');
  card.setAttribute('role', 'region');
  const slot = document.getElementById('prompt-slot');
  if (slot) slot.append(card);
  else document.body.append(card);
}

/** Wire push into the app: remember the CSRF token, follow the service worker, re-register, ask when it makes sense. */
export function installPush(app: App): void {
  void rememberCsrf();
  navigator.serviceWorker?.addEventListener('message', (event: MessageEvent) => {
    const data = event.data as { type?: string; url?: string } | null;
    if (data?.type === 'OPEN_URL' && typeof data.url === 'string') {
      if (window.location.hash !== data.url) window.location.hash = data.url;
      app.scheduler?.now();
    } else if (data?.type === 'PUSH') {
      app.scheduler?.now(); // a push is a hint: fetch the real state
    }
  });
  window.addEventListener('online', flushDecisions);
  app.events.on('me', (me) => {
    void rememberCsrf();
    if (me) {
      void resync(app);
      void maybePrompt(app);
    } else {
      // Signed out: drop the browser's subscription, so the push service answers 410 and the server
      // forgets this device; nobody's approvals keep arriving on a phone they left.
      document.querySelector('[data-testid="push-prompt"]')?.remove();
      void setValue('deviceId', null);
      void navigator.serviceWorker
        ?.getRegistration()
        .then((registration) => registration?.pushManager.getSubscription())
        .then((subscription) => subscription?.unsubscribe());
    }
  });
  if (app.me) {
    flushDecisions();
    void resync(app);
    void maybePrompt(app);
  }
}
