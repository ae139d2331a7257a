// Boot: open the device database, pick the language, show the shell (from IndexedDB, so it opens
// offline after the first sign-in), register the service worker, and start syncing.
import './styles.css';
import { App } from './app';
import { META, ensureClientId, getMeta, openAppDb } from './db/db';
import { detectLocale, isLocale, setLocale } from './i18n';
import { uuid } from './lib/uuid';
import { h } from './ui/dom';
import { mountShell } from './ui/shell';
import { installPush } from './push/client';
import { registerUpdates } from './ui/update';

async function boot(): Promise<void> {
  const root = document.getElementById('app')!;
  const db = await openAppDb({
    // A newer version of the app (another tab, or after an update) needs to upgrade the database.
    onBlocking: () => {
      db.close();
      window.location.reload();
    },
  });
  const stored = await getMeta<string>(db, META.locale);
  setLocale(isLocale(stored) ? stored : detectLocale());
  await ensureClientId(db, uuid);

  const app = new App(db);
  await app.load();
  app.updates = registerUpdates();
  mountShell(root, app);
  installPush(app);
  if (app.me) {
    app.startSync();
    if (navigator.onLine) void app.refreshMe();
  }
}

boot().catch((error: unknown) => {
  console.error(error);
  const root = document.getElementById('app');
  root?.replaceChildren(h('p', { class: 'fatal' }, String(error)));
});
