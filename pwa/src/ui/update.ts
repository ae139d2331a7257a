// New versions install in the background and wait; the page offers them and applies one only when
// the user taps (SKIP_WAITING, then one reload when the new worker takes control). Queued changes
// live in IndexedDB, so an update never strands them.
import { Workbox } from 'workbox-window';

export type CheckResult = 'ready' | 'latest' | 'unavailable' | 'offline';

export interface Updates {
  readonly ready: boolean;
  onReady(fn: () => void): void;
  apply(): void;
  check(): Promise<CheckResult>;
}

export function registerUpdates(): Updates {
  const listeners: (() => void)[] = [];
  let ready = false;
  let registration: ServiceWorkerRegistration | undefined;
  const supported = 'serviceWorker' in navigator && import.meta.env.PROD;

  const markReady = () => {
    if (ready) return;
    ready = true;
    for (const fn of listeners) fn();
  };

  if (supported) {
    const wb = new Workbox('/sw.js', { scope: '/' });
    wb.addEventListener('waiting', markReady);
    let applying = false;
    let reloaded = false;
    navigator.serviceWorker.addEventListener('controllerchange', () => {
      if (applying && !reloaded) {
        reloaded = true;
        window.location.reload();
      }
    });
    wb.register()
      .then((reg) => {
        registration = reg;
        if (reg?.waiting && navigator.serviceWorker.controller) markReady();
      })
      .catch((error: unknown) => console.warn('service worker registration failed', error));

    return {
      get ready() {
        return ready;
      },
      onReady(fn) {
        listeners.push(fn);
        if (ready) fn();
      },
      apply() {
        const waiting = registration?.waiting;
        if (!waiting) {
          window.location.reload();
          return;
        }
        applying = true;
        waiting.postMessage({ type: 'SKIP_WAITING' });
      },
      async check() {
        if (!navigator.onLine) return 'offline';
        if (!registration) registration = (await navigator.serviceWorker.getRegistration()) ?? undefined;
        if (!registration) return 'unavailable';
        try {
          await registration.update();
        } catch {
          return 'offline';
        }
        const installing = registration.installing;
        if (installing) {
          await new Promise<void>((resolve) => {
            const done = () => {
              if (installing.state !== 'installing') {
                installing.removeEventListener('statechange', done);
                resolve();
              }
            };
            installing.addEventListener('statechange', done);
            setTimeout(resolve, 15_000);
          });
        }
        if (registration.waiting && navigator.serviceWorker.controller) {
          markReady();
          return 'ready';
        }
        return 'latest';
      },
    };
  }

  return {
    ready: false,
    onReady(fn) {
      listeners.push(fn);
    },
    apply() {
      window.location.reload();
    },
    async check() {
      return 'unavailable';
    },
  };
}
