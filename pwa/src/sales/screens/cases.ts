// Cases (complaints, faults, service requests): the list (fetched when online, kept for offline
// reading; a new case is made offline in case-new.ts), and a case with its
// steps — the person a step waits for marks it done here (approval.decide on the case's version).
import type { App } from '../../app';
import { formatAgo, formatDateTime } from '../../i18n';
import { clear, h } from '../../ui/dom';
import type { Screen } from '../../ui/shell';
import { salesHref } from '../href';
import type { SalesMutation } from '../mutations';
import { s, type SalesKey } from '../i18n';
import { cached, casesKey, fetchCase, fetchCases, fetchHistory, historyKey, withLocalCases } from '../store';
import { type Case, type InstancePage, type WorkStep } from '../types';
import { card, problemText } from './bits';
import { isLeader } from './pipeline';
import { instanceView } from './quote';

type Decide = Extract<SalesMutation, { name: 'approval.decide' }>;

function caseBadges(c: Case, kind: 'case' | 'project' = 'case'): HTMLElement {
  return h(
    'span',
    { class: 'row case-badges', testid: 'case-badges' },
    kind === 'case' ? h('span', { class: 'badge', testid: 'case-type' }, s(`caseType.${c.type}` as SalesKey)) : null,
    kind === 'case' ? h('span', { class: `badge prio-${c.priority}`, testid: 'case-priority' }, s(`priority.${c.priority}` as SalesKey)) : null,
    h('span', { class: `badge case-${c.state}`, testid: 'case-state', 'data-state': c.state }, s(`caseState.${c.state}` as SalesKey)),
    c.overdue ? h('span', { class: 'badge badge-pending', testid: 'case-overdue' }, s('approve.overdue')) : null,
  );
}

export async function caseListScreen(app: App): Promise<Screen> {
  const scope = isLeader(app) ? 'all' : 'mine';
  const me = app.me?.user.id;
  let openOnly = true;
  const list = h('ul', { class: 'plain-list', testid: 'case-list' });
  const asOf = h('p', { class: 'muted small' });
  const copy = await cached<Case[]>(app.db, casesKey(scope));
  let rows: Case[] = withLocalCases(copy?.data ?? [], await app.db.getAll('cases'));
  let at = copy?.at ?? null;
  const paint = () => {
    asOf.textContent = at ? s('asOf', { time: formatAgo(at) }) : '';
    const shown = rows.filter((c) => !openOnly || c.state === 'open' || c.state === 'in_progress');
    clear(
      list,
      shown.length
        ? shown.map((c) =>
            h(
              'li',
              { class: 'opp-row', testid: 'case-item', 'data-id': c.id, 'data-state': c.state },
              h('a', { class: 'opp-link', href: salesHref.case(c.id) }, h('span', { class: 'opp-name' }, c.title), h('span', { class: 'muted small' }, `${c.accountName} · ${s('case.due', { time: formatDateTime(c.dueAt) })}`), caseBadges(c)),
            ),
          )
        : h('li', { class: 'empty', testid: 'case-empty' }, navigator.onLine || rows.length ? s('case.none') : s('case.noCopy')),
    );
  };
  paint();
  let alive = true;
  if (navigator.onLine) {
    void fetchCases(app, scope, { ownerId: scope === 'mine' ? me : undefined }).then(async (items) => {
      if (!alive || !items) return;
      rows = withLocalCases(items, await app.db.getAll('cases'));
      at = new Date().toISOString();
      paint();
    });
  }
  const toggle = h('label', { class: 'check' }, h('input', { type: 'checkbox', checked: true, testid: 'case-open-only', onchange: (e: Event) => ((openOnly = (e.target as HTMLInputElement).checked), paint()) }), s('case.openOnly'));
  return {
    el: h('div', { class: 'stack', testid: 'cases-screen' }, h('a', { class: 'btn btn-primary btn-block', href: salesHref.caseNew(), testid: 'case-new-link' }, s('case.new')), toggle, list, asOf),
    title: s('case.list'),
    back: salesHref.hub(),
    destroy() {
      alive = false;
    },
  };
}

/** A case or a delivery project: its facts and its steps (the holder marks a step done). */
export async function caseScreen(app: App, parts: string[], kind: 'case' | 'project' = 'case'): Promise<Screen> {
  const id = parts[1] ?? '';
  const key = `sales:${kind}:${id}`;
  let item: Case | null = (await cached<Case>(app.db, key))?.data ?? (await app.db.get('cases', id)) ?? null;
  const head = h('div', { class: 'stack' });
  const steps = h('ul', { class: 'plain-list stack', testid: 'case-steps' });
  const history = h('div', { testid: 'case-history' });
  let alive = true;

  const queued = async () => new Map((await app.db.getAll('outbox')).filter((m): m is Decide => m.name === 'approval.decide').map((m) => [m.args.stepId, m]));

  const stepView = (step: WorkStep, waiting: Decide | undefined, refused: string | undefined) => {
    const done = h('button', { type: 'button', class: 'btn btn-primary', testid: 'case-step-done' }, s('case.stepDone'));
    done.addEventListener('click', async () => {
      if (!item) return;
      done.disabled = true;
      await app.save({ name: 'approval.decide', args: { stepId: step.id, decision: 'approve', subjectVersion: item.version, comment: '' } });
      await paint();
      if (navigator.onLine) {
        await app.engine.run();
        await load();
      } else app.toast(s('approve.queued'));
    });
    return h(
      'li',
      { class: 'card', testid: 'case-step', 'data-id': step.id, 'data-status': step.status },
      h('div', { class: 'row between' }, h('strong', null, step.label || step.name), h('span', { class: `badge wf-${step.status}` }, s(`step.${step.status}` as SalesKey))),
      step.dueAt ? h('p', { class: step.overdue ? 'warn small' : 'muted small' }, `${s('case.due', { time: formatDateTime(step.dueAt) })}${step.overdue ? ` · ${s('approve.overdue')}` : ''}`) : null,
      step.completedAt ? h('p', { class: 'muted small' }, s('case.doneAt', { time: formatDateTime(step.completedAt) })) : null,
      refused ? h('p', { class: 'form-error', testid: 'case-step-refused' }, refused) : null,
      step.status === 'pending' ? (waiting ? h('p', { class: 'notice', testid: 'case-step-queued' }, s('case.stepQueued')) : done) : null,
    );
  };

  const paint = async () => {
    if (!item) {
      clear(head, h('p', { class: 'empty', testid: 'case-not-found' }, navigator.onLine ? s('loading') : s('case.noCopy')));
      return;
    }
    const c = item;
    clear(
      head,
      card(
        'case-head',
        null,
        h('strong', { testid: 'case-title' }, c.title),
        caseBadges(c, kind),
        h('p', null, h('a', { href: `#/a/${encodeURIComponent(c.accountId)}` }, c.accountName), ` · ${c.ownerName}`),
        c.description ? h('p', { class: 'tl-note' }, c.description) : null,
        c.dueAt ? h('p', { class: c.overdue ? 'warn' : 'muted' }, s('case.due', { time: formatDateTime(c.dueAt) })) : null,
      ),
    );
    const waiting = await queued();
    const refused = new Map((await app.db.getAll('rejected')).filter((r) => r.mutation.name === 'approval.decide').map((r) => [(r.mutation as Decide).args.stepId, r.message]));
    clear(steps, c.steps.length ? c.steps.map((st) => stepView(st, waiting.get(st.id), refused.get(st.id))) : h('li', { class: 'muted' }, s('case.noOpenSteps')));
    const page = (await cached<InstancePage>(app.db, historyKey(kind, id)))?.data;
    clear(history, page?.items.length ? card('case-history-card', s('history.title'), page.items.map(instanceView)) : null);
  };

  const load = async () => {
    const fresh = kind === 'case' ? await fetchCase(app, id) : await fetchProject(app, id);
    if (fresh) item = fresh;
    await fetchHistory(app, kind, id);
    if (alive) await paint();
  };

  await paint();
  if (navigator.onLine) void load();
  return {
    el: h('div', { class: 'stack', testid: 'case-screen', 'data-id': id }, head, h('h2', { class: 'section-title' }, s('case.steps')), steps, history),
    title: item?.title ?? s(kind === 'case' ? 'case.title' : 'project.title'),
    back: kind === 'case' ? salesHref.cases() : salesHref.hub(),
    // The pull keeps the device's copy current (a case made here is replaced by the server's, steps and all).
    async refresh() {
      const stored = await app.db.get('cases', id);
      if (stored && (!item || stored.updatedAt >= item.updatedAt || (item.steps.length === 0 && stored.steps.length > 0))) item = stored;
      await paint();
    },
    destroy() {
      alive = false;
    },
  };
}

/** A delivery project, shown as a case is (its fields that matter here have the same names). */
async function fetchProject(app: App, id: string): Promise<Case | null> {
  const result = await app.api.get<{ id: string; name: string; accountId: string; accountName: string; ownerName: string; ownerId: string; state: string; steps: WorkStep[]; version: number; notes: string; createdAt: string; updatedAt: string }>(`/api/projects/${encodeURIComponent(id)}`);
  if (!result.ok) {
    if (result.status !== 0) app.toast(problemText(result));
    return null;
  }
  const p = result.data;
  const asCase = {
    id: p.id,
    accountId: p.accountId,
    accountName: p.accountName,
    ownerId: p.ownerId,
    ownerName: p.ownerName,
    type: 'service_request',
    priority: 'normal',
    title: p.name,
    description: p.notes,
    state: p.state === 'active' ? 'in_progress' : p.state === 'completed' ? 'resolved' : 'cancelled',
    lastStep: '',
    dueAt: '',
    overdue: false,
    resolvedAt: null,
    steps: p.steps,
    version: p.version,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  } as Case;
  await app.db.put('cache', { key: `sales:project:${id}`, at: new Date().toISOString(), data: asCase });
  return asCase;
}
