// The account 360's way into selling: new opportunity, quote or case for this customer. (Their
// history is on the account's timeline, which the server fills.)
import { t } from '../i18n';
import { h } from '../ui/dom';
import { salesHref } from './href';

export function salesLinks(accountId: string): HTMLElement {
  return h(
    'section',
    { class: 'card', testid: 'acct-sales' },
    h('h2', { class: 'card-title' }, t('sales.title')),
    h(
      'div',
      { class: 'row' },
      h('a', { class: 'btn', href: salesHref.opportunityNew(accountId), testid: 'acct-new-opportunity' }, t('sales.newOpportunity')),
      h('a', { class: 'btn', href: salesHref.quoteNew(accountId), testid: 'acct-new-quote' }, t('sales.newQuote')),
      h('a', { class: 'btn', href: salesHref.caseNew(accountId), testid: 'acct-new-case' }, t('sales.newCase')),
    ),
  );
}
