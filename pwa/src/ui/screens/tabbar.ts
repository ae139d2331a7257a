// The bottom bar on a phone: accounts, today's visits; for leaders the review queue, the coverage
// map and the approvals inbox (with how many wait); for HQ the admin screens (HQ does no field
// visits, so Today gives way). Large targets; hidden until someone is signed in.
import type { App } from '../../app';
import { t, type MsgKey } from '../../i18n';
import { ADMIN_ROOTS } from '../../admin/href';
import { workHref } from '../../work/lazy';
import { clear, h } from '../dom';
import { href, type Route } from '../router';

/** Leaders (managers, directors, HQ) review check-ins and watch coverage. */
export function isLeader(app: App): boolean {
  return app.can('visits.review');
}

interface Tab {
  key: string;
  label: MsgKey;
  to: string;
  match: (route: Route) => boolean;
}

const named =
  (...names: Route['name'][]) =>
  (route: Route) =>
    names.includes(route.name);

export function tabsFor(app: App): Tab[] {
  const hq = app.can('org.manage');
  const leader = isLeader(app);
  const work = (root: string) => (r: Route) => r.name === 'work' && r.parts[0] === root;
  const tabs: Tab[] = [];
  // A rep's first screen is Home (their week); a leader's day starts from Team, HQ's from the dashboard.
  if (!hq && !leader) tabs.push({ key: 'home', label: 'nav.home', to: workHref.home(), match: (r) => r.name === 'work' && ['home', 'tasks', 'calendar'].includes(r.parts[0] ?? '') });
  tabs.push({ key: 'accounts', label: 'nav.accounts', to: href.accounts(), match: named('accounts', 'account', 'account-edit', 'contact-new', 'contact-edit') });
  if (leader && !hq) tabs.push({ key: 'team', label: 'nav.team', to: workHref.team(), match: work('team') });
  if (hq) tabs.push({ key: 'dashboard', label: 'nav.dashboard', to: workHref.dashboard(), match: work('dashboard') });
  if (!hq) tabs.push({ key: 'today', label: 'nav.today', to: href.today(), match: named('today', 'plan-new', 'checkin', 'visit') });
  if (isLeader(app)) {
    tabs.push({ key: 'review', label: 'nav.review', to: href.review(), match: named('review') });
    tabs.push({ key: 'coverage', label: 'nav.coverage', to: href.coverage(), match: named('coverage') });
    tabs.push({ key: 'approvals', label: 'nav.approvals', to: '#/approvals', match: (r) => r.name === 'sales' && r.parts[0] === 'approvals' });
  }
  if (hq) tabs.push({ key: 'admin', label: 'nav.admin', to: '#/admin', match: (r) => r.name === 'admin' && ADMIN_ROOTS.includes(r.parts[0] ?? '') });
  return tabs;
}

export function tabBar(app: App): { el: HTMLElement; show(route: Route): void } {
  const el = h('nav', { class: 'tabbar', testid: 'tabbar', hidden: true });
  return {
    el,
    show(route) {
      const tabs = tabsFor(app);
      el.hidden = !app.me || route.name === 'login';
      el.setAttribute('aria-label', t('nav.main'));
      el.dataset.tabs = String(tabs.length);
      clear(
        el,
        tabs.map((tab) => {
          const active = tab.match(route);
          return h(
            'a',
            { class: active ? 'tab tab-active' : 'tab', href: tab.to, testid: `tab-${tab.key}`, 'aria-current': active ? 'page' : undefined },
            t(tab.label),
          );
        }),
      );
    },
  };
}
