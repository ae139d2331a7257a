// When to sync: at start, when the network returns, every minute while the page is visible,
// shortly after a change is queued, and when the user asks. Runs never block the screen.
import type { SyncEngine } from './engine';

export interface Scheduler {
  /** Sync now (the button). */
  now(): void;
  /** Sync soon (after a queued change: several quick edits go in one push). */
  soon(): void;
  stop(): void;
}

export function startScheduler(engine: SyncEngine, intervalMs = 60_000): Scheduler {
  let soonTimer: ReturnType<typeof setTimeout> | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;

  const visible = () => document.visibilityState === 'visible';

  const run = () => {
    if (stopped) return;
    engine.status.online = navigator.onLine;
    if (!navigator.onLine) {
      engine.publish();
      return;
    }
    void engine.run().then((summary) => {
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = null;
      if (summary.outcome === 'backoff' && engine.status.retryAt) {
        retryTimer = setTimeout(run, Math.max(1000, engine.status.retryAt - Date.now() + 50));
      }
    });
  };

  const onOnline = () => run();
  const onOffline = () => {
    engine.status.online = false;
    engine.publish();
  };
  const onVisible = () => {
    if (visible()) run();
  };
  window.addEventListener('online', onOnline);
  window.addEventListener('offline', onOffline);
  document.addEventListener('visibilitychange', onVisible);
  const interval = setInterval(() => {
    if (visible()) run();
  }, intervalMs);
  run();

  return {
    now: run,
    soon() {
      if (soonTimer) clearTimeout(soonTimer);
      soonTimer = setTimeout(run, 800);
    },
    stop() {
      stopped = true;
      window.removeEventListener('online', onOnline);
      window.removeEventListener('offline', onOffline);
      document.removeEventListener('visibilitychange', onVisible);
      clearInterval(interval);
      if (soonTimer) clearTimeout(soonTimer);
      if (retryTimer) clearTimeout(retryTimer);
    },
  };
}
