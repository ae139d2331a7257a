// The bottom bar on a phone: accounts, today's visits, and for leaders the review queue and the
// coverage map. Large targets; hidden until someone is signed in.
import type { App } from '../../app';
import { t, type MsgKey } from '../../i18n';
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
  routes: Route['name'][];
}

export function tabBar(app: App): { el: HTMLElement; show(route: Route): void } {
  const el = h('nav', { class: 'tabbar', testid: 'tabbar', hidden: true });
  return {
    el,
    show(route) {
      const tabs: Tab[] = [
        { key: 'accounts', label: 'nav.accounts', to: href.accounts(), routes: ['accounts', 'account', 'account-edit', 'contact-new', 'contact-edit'] },
        { key: 'today', label: 'nav.today', to: href.today(), routes: ['today', 'plan-new', 'checkin', 'visit'] },
      ];
      if (isLeader(app)) {
        tabs.push({ key: 'review', label: 'nav.review', to: href.review(), routes: ['review'] });
        tabs.push({ key: 'coverage', label: 'nav.coverage', to: href.coverage(), routes: ['coverage'] });
      }
      el.hidden = !app.me || route.name === 'login';
      el.setAttribute('aria-label', t('nav.main'));
      clear(
        el,
        tabs.map((tab) => {
          const active = tab.routes.includes(route.name);
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
