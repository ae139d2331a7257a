/// <reference lib="webworker" />
// The service worker: precache the app shell (the build lists it in __WB_MANIFEST), answer
// navigations with the cached index.html, and leave the API alone (data lives in IndexedDB).
// A new version waits until the page says SKIP_WAITING (the user tapped "Update").
import { clientsClaim } from 'workbox-core';
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';

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

// The first install takes the open page at once (there is no older version to disturb); later
// versions only activate after SKIP_WAITING.
clientsClaim();
