// The selling screens' entry (a chunk of its own, loaded on first use): the hub and the routes
// #/sales, #/pipeline[/team], #/opportunities/new[/<accountId>], #/opportunities/<id>, #/quotes,
// #/quotes/new[/<accountId>[/<opportunityId>]], #/quotes/<id>, #/approvals, #/cases,
// #/cases/new[/<accountId>], #/cases/<id>, #/projects/<id>.
import '../sales.css';
import type { App } from '../../app';
import { h } from '../../ui/dom';
import { t } from '../../i18n';
import type { Route } from '../../ui/router';
import type { Screen } from '../../ui/shell';
import { salesHref } from '../href';
import { s } from '../i18n';
import { cached, fetchInbox, INBOX_KEY } from '../store';
import type { InboxPage } from '../types';
import { approvalsScreen } from './approvals';
import { caseListScreen, caseScreen } from './cases';
import { caseCreateScreen } from './case-new';
import { accountNewScreen, prospectScreen } from '../../ui/screens/account-new';
import { myMapScreen } from '../../ui/screens/mymap';
import { opportunityScreen } from './opportunity';
import { isLeader, pipelineScreen } from './pipeline';
import { quoteListScreen, quoteScreen } from './quote';

async function hubScreen(app: App): Promise<Screen> {
  const count = h('span', { class: 'badge', testid: 'hub-approvals-count', hidden: true });
  const showCount = (page: InboxPage | null | undefined) => {
    if (!page) return;
    count.textContent = String(page.total);
    count.dataset.count = String(page.total);
    count.hidden = page.total === 0;
  };
  showCount((await cached<InboxPage>(app.db, INBOX_KEY))?.data);
  if (navigator.onLine) void fetchInbox(app).then(showCount);
  const link = (testid: string, to: string, label: string, ...extra: (HTMLElement | null)[]) => h('a', { class: 'btn btn-big btn-block hub-link', href: to, testid }, label, ...extra);
  return {
    el: h(
      'div',
      { class: 'stack', testid: 'sales-hub' },
      link('hub-pipeline', salesHref.pipeline(), s('pipe.title')),
      link('hub-quotes', salesHref.quotes(), s('quote.list')),
      link('hub-approvals', salesHref.approvals(), s('approve.title'), count),
      link('hub-cases', salesHref.cases(), s('case.list')),
      h(
        'div',
        { class: 'row' },
        h('a', { class: 'btn', href: salesHref.opportunityNew(), testid: 'hub-new-opportunity' }, s('opp.new')),
        h('a', { class: 'btn', href: salesHref.quoteNew(), testid: 'hub-new-quote' }, s('quote.new')),
        h('a', { class: 'btn', href: salesHref.caseNew(), testid: 'hub-new-case' }, s('case.new')),
        h('a', { class: 'btn', href: '#/prospects/new', testid: 'hub-new-account' }, t('newacct.link')),
      ),
      h('a', { class: 'btn btn-block', href: '#/map', testid: 'hub-map' }, t('mymap.title')),
      isLeader(app) ? h('p', { class: 'muted small' }, s('hub.leader')) : null,
    ),
    title: s('hub.title'),
  };
}

export async function salesScreens(app: App, route: Route): Promise<Screen> {
  if (route.name !== 'sales') throw new Error('wrong route');
  const parts = route.parts;
  switch (parts[0]) {
    case 'pipeline':
      return pipelineScreen(app, parts);
    case 'opportunities':
      return opportunityScreen(app, parts[1] ? parts : ['opportunities', 'new']);
    case 'quotes':
      return parts[1] ? quoteScreen(app, parts) : quoteListScreen(app);
    case 'approvals':
      return approvalsScreen(app);
    case 'cases':
      if (parts[1] === 'new') return caseCreateScreen(app, parts);
      return parts[1] ? caseScreen(app, parts) : caseListScreen(app);
    case 'map':
      return myMapScreen(app);
    case 'prospects':
      return parts[1] && parts[1] !== 'new' ? prospectScreen(app, parts) : accountNewScreen(app, parts);
    case 'projects':
      return parts[1] ? caseScreen(app, parts, 'project') : hubScreen(app);
    default:
      return hubScreen(app);
  }
}
