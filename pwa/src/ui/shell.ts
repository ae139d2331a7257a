// The frame around every screen: top bar, status bar, update banner, toasts; and the router that
// swaps screens and tells the current one when data changed.
import type { App } from '../app';
import { t } from '../i18n';
import { clear, h } from './dom';
import { href, parseRoute, type Route } from './router';
import { statusBar } from './statusbar';
import { accountsScreen } from './screens/accounts';
import { accountScreen } from './screens/account';
import { accountEditScreen } from './screens/account-edit';
import { contactFormScreen } from './screens/contact-form';
import { loginScreen } from './screens/login';
import { rejectedScreen } from './screens/rejected';
import { settingsScreen } from './screens/settings';
import { notificationsScreen } from '../push/screen';
import { todayScreen } from './screens/today';
import { planFormScreen } from './screens/plan-form';
import { checkinScreen } from './screens/checkin';
import { visitScreen } from './screens/visitlog';
import { reviewScreen } from './screens/review';
import { coverageScreen } from './screens/coverage';
import { tabBar } from './screens/tabbar';
import { salesScreen } from '../sales/lazy';
import { salesHref } from '../sales/href';
import { adminScreen } from '../admin/lazy';
import { workScreen } from '../work/lazy';

export interface Screen {
  el: HTMLElement;
  title: string;
  /** where the back arrow goes; none on top-level screens */
  back?: string;
  /** a list screen scrolls itself */
  fill?: boolean;
  /** re-read from IndexedDB (data changed) */
  refresh?: () => void | Promise<void>;
  destroy?: () => void;
}

export type ScreenFactory = (app: App, route: Route) => Promise<Screen>;

function factory(route: Route): ScreenFactory {
  switch (route.name) {
    case 'accounts':
      return accountsScreen;
    case 'account':
      return accountScreen;
    case 'account-edit':
      return accountEditScreen;
    case 'contact-new':
    case 'contact-edit':
      return contactFormScreen;
    case 'today':
      return todayScreen;
    case 'plan-new':
      return planFormScreen;
    case 'checkin':
      return checkinScreen;
    case 'visit':
      return visitScreen;
    case 'review':
      return reviewScreen;
    case 'coverage':
      return coverageScreen;
    case 'rejected':
      return rejectedScreen;
    case 'settings':
      return settingsScreen;
    case 'notifications':
      return notificationsScreen;
    case 'login':
      return loginScreen;
    case 'sales':
      return salesScreen;
    case 'admin':
      return adminScreen;
    case 'work':
      return workScreen;
  }
}

export function mountShell(root: HTMLElement, app: App): void {
  const back = h('a', { class: 'topbar-back', testid: 'nav-back', href: href.accounts(), hidden: true });
  const title = h('h1', { class: 'topbar-title', testid: 'screen-title' });
  const homeLink = h('a', { class: 'topbar-link', testid: 'nav-accounts', href: href.accounts() });
  const settingsLink = h('a', { class: 'topbar-link topbar-icon', testid: 'nav-settings', href: href.settings() }, '⚙');
  const salesLink = h('a', { class: 'topbar-link', testid: 'nav-sales', href: salesHref.hub() });
  const topbar = h('header', { class: 'topbar' }, back, title, h('nav', { class: 'topbar-nav' }, homeLink, salesLink, settingsLink));

  const updateText = h('span');
  const updateButton = h('button', { type: 'button', class: 'btn btn-small', testid: 'update-apply', onclick: () => app.updates?.apply() });
  const banner = h('div', { class: 'update-banner', testid: 'update-banner', role: 'alert', hidden: true }, updateText, updateButton);
  const toast = h('div', { class: 'toast', testid: 'toast', role: 'status', hidden: true });
  const main = h('main', { class: 'main', testid: 'main' });
  const tabs = tabBar(app);
  const bar = statusBar(app);
  // Where a prompt (push: "Get approvals on this phone?") sits: in the flow above the screen, never over it.
  const prompts = h('div', { class: 'prompt-slot', id: 'prompt-slot', testid: 'prompt-slot' });
  clear(root, topbar, bar, banner, prompts, main, tabs.el, toast);

  let current: Screen | null = null;
  let showingLogin = false;
  let generation = 0;

  const labels = () => {
    // The arrow alone (its name for screen readers): the title gets the width.
    back.textContent = '‹';
    back.setAttribute('aria-label', t('nav.back'));
    back.title = t('nav.back');
    homeLink.textContent = t('nav.accounts');
    salesLink.textContent = t('nav.sales');
    settingsLink.setAttribute('aria-label', t('nav.settings'));
    settingsLink.title = t('nav.settings');
    updateText.textContent = t('update.ready');
    updateButton.textContent = t('update.apply');
    document.title = current ? `${current.title} · ${t('app.title')}` : t('app.title');
  };

  async function show(): Promise<void> {
    let route = parseRoute(location.hash);
    if (!app.me && route.name !== 'login') route = { name: 'login' };
    const mine = ++generation;
    let screen: Screen;
    try {
      screen = await factory(route)(app, route);
    } catch (error) {
      console.error(error);
      screen = { el: h('p', { class: 'empty' }, String(error)), title: t('app.title'), back: href.accounts() };
    }
    if (mine !== generation) {
      screen.destroy?.();
      return;
    }
    current?.destroy?.();
    current = screen;
    showingLogin = route.name === 'login';
    topbar.hidden = !app.me;
    // No sync bar before anyone signs in: there is nothing to sync.
    bar.hidden = !app.me || showingLogin;
    title.textContent = screen.title;
    title.title = screen.title;
    back.hidden = !screen.back;
    // A screen with a back arrow leaves the accounts link to the tab bar, so its title can be read.
    homeLink.hidden = !app.me || route.name === 'accounts' || !!screen.back;
    if (screen.back) back.setAttribute('href', screen.back);
    main.classList.toggle('main-fill', !!screen.fill);
    // Admin screens are for a desk: tables and two columns, so the frame may be wider than a phone's.
    root.classList.toggle('app-wide', route.name === 'admin' || (route.name === 'work' && ['calendar', 'team', 'dashboard'].includes(route.parts[0] ?? '')));
    tabs.show(route);
    clear(main, screen.el);
    if (!screen.fill) main.scrollTop = 0;
    labels();
  }

  let refreshQueued = false;
  const refresh = () => {
    if (refreshQueued) return;
    refreshQueued = true;
    // Several pages of a pull arrive in a burst: re-read once per frame at most.
    requestAnimationFrame(() => {
      refreshQueued = false;
      void current?.refresh?.();
    });
  };

  window.addEventListener('hashchange', () => void show());
  app.events.on('data', refresh);
  app.events.on('locale', () => {
    labels();
    void show();
  });
  app.events.on('me', (me) => {
    // Signed out, or just signed in from the login screen: go to the list. (A background refresh
    // of the same user changes nothing on screen.)
    if (me && !showingLogin) return;
    if (location.hash !== '' && location.hash !== '#/') location.hash = '#/';
    else void show();
  });

  let toastTimer: ReturnType<typeof setTimeout> | undefined;
  app.events.on('toast', (message) => {
    toast.textContent = message;
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => {
      toast.hidden = true;
    }, 3500);
  });

  app.updates?.onReady(() => {
    banner.hidden = false;
  });

  labels();
  void show();
}
