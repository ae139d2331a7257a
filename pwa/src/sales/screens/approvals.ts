// The approvals inbox (leaders, and anyone a step waits for): each open step with its subject, the
// key facts (discount, total), how long it has waited and when it is due; approve, reject or
// return in two taps (a ready-made comment, then the decision). A decision is a mutation
// (approval.decide, with the subject version the decider saw) sent at once when online and kept
// in the outbox when not; one the server refuses (decided already, the quote changed) shows why.
import type { App } from '../../app';
import type { RejectedMutation } from '../../db/db';
import { formatAgo, formatDateTime } from '../../i18n';
import { clear, h } from '../../ui/dom';
import type { Screen } from '../../ui/shell';
import { salesHref } from '../href';
import type { SalesMutation } from '../mutations';
import { s, type SalesKey } from '../i18n';
import { cached, fetchInbox, INBOX_KEY } from '../store';
import type { DecisionKind, InboxItem, InboxPage } from '../types';
import { card, money, percent } from './bits';

const QUICK: SalesKey[] = ['approve.quick.ok', 'approve.quick.price', 'approve.quick.terms', 'approve.quick.call'];

/** The subject's screen in this app (the workflow's url is a hash route already). */
export function subjectHref(item: Pick<InboxItem, 'subjectKind' | 'subjectId' | 'url'>): string {
  if (item.url.startsWith('#/')) return item.url;
  if (item.subjectKind === 'quote') return salesHref.quote(item.subjectId);
  if (item.subjectKind === 'case') return salesHref.case(item.subjectId);
  return salesHref.project(item.subjectId);
}

/** The facts a decider looks at first. */
export function keyFacts(facts: Record<string, unknown>): { label: SalesKey; value: string; testid: string }[] {
  const out: { label: SalesKey; value: string; testid: string }[] = [];
  const num = (k: string) => (typeof facts[k] === 'number' ? (facts[k] as number) : null);
  const discount = num('overall_discount_bp') ?? num('discount_bp');
  if (discount !== null) out.push({ label: 'approve.discount', value: percent(discount), testid: 'approval-discount' });
  const deepest = num('deepest_line_discount_bp');
  if (deepest !== null && deepest !== discount) out.push({ label: 'approve.deepest', value: percent(deepest), testid: 'approval-deepest' });
  const total = num('total_cents');
  if (total !== null) out.push({ label: 'approve.total', value: money(total), testid: 'approval-total' });
  if (typeof facts.priority === 'string') out.push({ label: 'case.priority', value: s(`priority.${facts.priority}` as SalesKey), testid: 'approval-priority' });
  return out;
}

/** A quote's card says what it is in its own words ("Q-2026-00012 · 5G 专网"); the amount is in the facts,
 * in the same money format. Older instances (started before the facts carried the label) keep the
 * server's title with its amount restated the same way. */
export function cardTitle(item: Pick<InboxItem, 'title' | 'facts' | 'subjectKind'>): string {
  const f = item.facts;
  if (item.subjectKind !== 'quote') return item.title;
  if (typeof f.quote_label === 'string') return [f.quote_label, typeof f.quote_title === 'string' && f.quote_title ? f.quote_title : null].filter(Boolean).join(' · ');
  return item.title.replace(/ · [\d,]+ CNY$/, '');
}

type Decide = Extract<SalesMutation, { name: 'approval.decide' }>;

export async function approvalsScreen(app: App): Promise<Screen> {
  const status = h('p', { class: 'muted', testid: 'approvals-status', role: 'status' });
  const list = h('ul', { class: 'plain-list stack', testid: 'approval-list' });
  const refused = h('div', { class: 'stack', testid: 'approval-refused' });
  let page: { at: string; data: InboxPage } | null = await cached<InboxPage>(app.db, INBOX_KEY);
  let alive = true;

  const queued = async () => new Map((await app.db.getAll('outbox')).filter((m): m is Decide => m.name === 'approval.decide').map((m) => [m.args.stepId, m]));

  const decide = async (item: InboxItem, decision: DecisionKind, comment: string, error: HTMLElement) => {
    if (decision === 'return' && !comment.trim()) {
      error.textContent = s('approve.returnNeedsComment');
      error.hidden = false;
      return;
    }
    await app.save({ name: 'approval.decide', args: { stepId: item.stepId, decision, subjectVersion: item.subjectVersion, comment: comment.trim() } });
    await paint();
    if (!navigator.onLine) {
      app.toast(s('approve.queued'));
      return;
    }
    await app.engine.run();
    await load();
  };

  const itemView = (item: InboxItem, waiting: Decide | undefined) => {
    const comment = h('input', { type: 'text', class: 'review-comment', testid: 'approval-comment', maxlength: 2000, placeholder: s('approve.comment'), 'aria-label': s('approve.comment') });
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const button = (decision: DecisionKind, cls: string) => {
      const b = h('button', { type: 'button', class: cls, testid: `approval-${decision}` }, s(`decision.${decision}` as SalesKey));
      b.addEventListener('click', () => {
        b.disabled = true;
        void decide(item, decision, comment.value, error).finally(() => {
          b.disabled = false;
        });
      });
      return b;
    };
    const workOrder = item.workflowType === 'work_order';
    return h(
      'li',
      { class: 'card approval-item', testid: 'approval-item', 'data-step': item.stepId, 'data-subject': item.subjectId, 'data-kind': item.subjectKind, 'data-overdue': String(item.overdue) },
      h('a', { class: 'card-title approval-title', href: subjectHref(item), testid: 'approval-subject' }, cardTitle(item)),
      h('p', { class: 'muted small' }, [typeof item.facts.account_name === 'string' ? item.facts.account_name : null, item.stepLabel, item.ownerName].filter(Boolean).join(' · ')),
      h(
        'dl',
        { class: 'fields' },
        keyFacts(item.facts).map((f) => [h('dt', null, s(f.label)), h('dd', { testid: f.testid }, f.value)]),
        h('dt', null, s('approve.waiting')),
        h('dd', { testid: 'approval-waiting' }, formatAgo(item.waitingSince)),
        h('dt', null, s('approve.due')),
        h(
          'dd',
          { testid: 'approval-due', class: item.overdue ? 'warn' : '' },
          item.dueAt ? `${formatDateTime(item.dueAt)}${item.overdue ? ` · ${s('approve.overdue')}` : item.warned ? ` · ${s('approve.dueSoon')}` : ''}` : '—',
        ),
        h('dt', null, s('approve.version')),
        h('dd', { testid: 'approval-version' }, `v${item.subjectVersion}`),
      ),
      waiting
        ? h('p', { class: 'notice', testid: 'approval-queued', 'data-decision': waiting.args.decision }, s('approve.queuedAs', { decision: s(`decision.${waiting.args.decision}` as SalesKey), version: waiting.args.subjectVersion }))
        : [
            workOrder ? null : h('div', { class: 'chips' }, QUICK.map((key) => h('button', { type: 'button', class: 'chip', testid: 'approval-chip', onclick: () => (comment.value = s(key)) }, s(key)))),
            comment,
            error,
            workOrder
              ? h('div', { class: 'row review-actions' }, button('approve', 'btn btn-primary'))
              : h('div', { class: 'row review-actions' }, button('approve', 'btn btn-primary'), button('reject', 'btn btn-danger-outline'), button('return', 'btn')),
          ],
    );
  };

  const refusedView = (r: RejectedMutation) => {
    const m = r.mutation as Decide;
    return h(
      'section',
      { class: 'card sales-conflict', testid: 'approval-refused-item', 'data-code': r.code, 'data-step': m.args.stepId },
      h('strong', null, s('approve.refused', { decision: s(`decision.${m.args.decision}` as SalesKey), version: m.args.subjectVersion })),
      h('p', { class: 'small', testid: 'approval-refused-reason' }, r.message),
      h(
        'button',
        {
          type: 'button',
          class: 'btn btn-small',
          testid: 'approval-refused-dismiss',
          onclick: async () => {
            if (r.key !== undefined) await app.db.delete('rejected', r.key);
            await app.engine.refreshCounts();
            await paint();
          },
        },
        s('dismiss'),
      ),
    );
  };

  const paint = async () => {
    const waiting = await queued();
    const rejected = (await app.db.getAll('rejected')).filter((r) => r.mutation.name === 'approval.decide');
    clear(refused, rejected.map(refusedView));
    if (!alive) return;
    const items = page?.data.items ?? [];
    status.textContent = page ? `${s('approve.count', { n: page.data.total })} · ${s('asOf', { time: formatAgo(page.at) })}` : navigator.onLine ? s('loading') : s('approve.noCopy');
    status.dataset.count = page ? String(page.data.total) : '';
    clear(list, items.length ? items.map((i) => itemView(i, waiting.get(i.stepId))) : page ? h('li', { class: 'empty', testid: 'approval-empty' }, s('approve.empty')) : null);
  };

  const load = async () => {
    const fresh = await fetchInbox(app);
    if (fresh) page = { at: new Date().toISOString(), data: fresh };
    if (alive) await paint();
  };

  await paint();
  if (navigator.onLine) void load();

  return {
    el: h(
      'div',
      { class: 'stack', testid: 'approvals-screen' },
      h('div', { class: 'row between' }, status, h('button', { type: 'button', class: 'btn btn-small', testid: 'approvals-reload', onclick: () => void load() }, s('reload'))),
      refused,
      list,
      card('approvals-help', null, h('p', { class: 'muted small' }, s('approve.help'))),
      // Going away: who decides meanwhile (#/delegations); the delivery projects these steps belong to.
      h('div', { class: 'row' }, h('a', { class: 'btn btn-small', href: '#/delegations', testid: 'approvals-delegations' }, s('approve.outOfOffice')), h('a', { class: 'btn btn-small', href: '#/projects', testid: 'approvals-projects' }, s('approve.projects'))),
    ),
    title: s('approve.title'),
    back: salesHref.hub(),
    // After a sync (a decision sent, or refused): the server's inbox again.
    async refresh() {
      await paint();
      if (navigator.onLine) void load();
    },
    destroy() {
      alive = false;
    },
  };
}
