/// <reference lib="webworker" />
// The service worker: precache the app shell (the build lists it in __WB_MANIFEST), answer
// navigations with the cached index.html, and leave the API alone (data lives in IndexedDB).
// A new version waits until the page says SKIP_WAITING (the user tapped "Update").
import { clientsClaim } from 'workbox-core';
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { DECISIONS_SYNC_TAG, flushDecisions, handleClick, notificationOptions, parsePayload, type SwDeps } from './push/sw-logic';
import { decisionQueue, getValue } from './push/store';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: (string | { url: string; revision: string | null })[] };

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

registerRoute(
  new NavigationRoute(createHandlerBoundToURL('index.html'), {
    denylist: [/^\/api\//, /^\/schema/, /^\/health/],
  }),
);

self.addEventListener('message', (event: ExtendableMessageEvent) => {
  const data = event.data as { type?: string } | null;
  if (data?.type === 'SKIP_WAITING') void self.skipWaiting();
});

// ---------------------------------------------------------------- Web Push (src/push/sw-logic.ts)
// Every push shows a notification (inside waitUntil); a tap opens the right screen, focusing an open
// window; Approve posts the decision with an Idempotency-Key and keeps it for later when offline.

const pushDeps: SwDeps = {
  origin: self.location.origin,
  fetch: (input, init) => fetch(input, init),
  csrf: async () => {
    const store = (self as unknown as { cookieStore?: { get(name: string): Promise<{ value: string } | null> } }).cookieStore;
    try {
      const cookie = store ? await store.get('fieldcrm_csrf') : null;
      if (cookie?.value) return cookie.value;
    } catch {
      /* no cookie store here: the page left the token in IndexedDB */
    }
    return getValue('csrf');
  },
  show: (title, options) => self.registration.showNotification(title, options as NotificationOptions),
  windows: () => self.clients.matchAll({ type: 'window', includeUncontrolled: true }),
  openWindow: (url) => self.clients.openWindow(url),
  queue: decisionQueue,
  requestSync: async () => {
    const sync = (self.registration as unknown as { sync?: { register(tag: string): Promise<void> } }).sync;
    try {
      await sync?.register(DECISIONS_SYNC_TAG);
    } catch {
      /* no background sync: the page flushes when it opens or comes online */
    }
  },
};

const maxActions = (): number => (self as unknown as { Notification?: { maxActions?: number } }).Notification?.maxActions ?? 2;

self.addEventListener('push', (event: PushEvent) => {
  const payload = parsePayload(event.data);
  event.waitUntil(
    Promise.all([
      self.registration.showNotification(payload.title, notificationOptions(payload, maxActions()) as NotificationOptions),
      // Open pages pull fresh state now; queued approvals get another chance with the network that brought this.
      self.clients.matchAll({ type: 'window' }).then((clients) => clients.forEach((c) => c.postMessage({ type: 'PUSH' }))),
      flushDecisions(pushDeps).catch(() => 0),
    ]),
  );
});

self.addEventListener('notificationclick', (event: NotificationEvent) => {
  event.notification.close();
  event.waitUntil(handleClick(pushDeps, event.action, event.notification.data));
});

self.addEventListener('sync', (event: Event) => {
  const sync = event as ExtendableEvent & { tag?: string };
  if (sync.tag === DECISIONS_SYNC_TAG) sync.waitUntil(flushDecisions(pushDeps));
});

self.addEventListener('message', (event: ExtendableMessageEvent) => {
  const data = event.data as { type?: string } | null;
  if (data?.type === 'FLUSH_DECISIONS') event.waitUntil(flushDecisions(pushDeps));
});

// The same paths for browser tests, which cannot tap a notification (a synthetic event may not waitUntil).
(self as unknown as Record<string, unknown>).fieldcrmPush = {
  click: (action: string, data: unknown) => handleClick(pushDeps, action, data),
  flush: () => flushDecisions(pushDeps),
};

// The first install takes the open page at once (there is no older version to disturb); later
// versions only activate after SKIP_WAITING.
clientsClaim();
