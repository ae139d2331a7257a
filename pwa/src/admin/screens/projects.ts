// #/projects: delivery projects in the caller's scope, searched by name, start date, account
// manager and customer; each row opens its steps with their SLAs (the project screen, #/projects/<id>).
import type { App } from '../../app';
import { formatDate, formatDateTime } from '../../i18n';
import { clear, h, select } from '../../ui/dom';
import type { Screen } from '../../ui/shell';
import { salesHref } from '../../sales/href';
import { ax, hasAdminKey } from '../i18n';
import { dataTable, fetchAll, labelled, message, problemText, type Page, type User } from './common';

interface WorkStep {
  id: string;
  name: string;
  label: string;
  status: string;
  dueAt: string | null;
  warnAt: string | null;
  overdue: boolean;
  completedAt: string | null;
}

interface Project {
  id: string;
  name: string;
  accountId: string;
  accountName: string;
  ownerId: string;
  ownerName: string;
  startDate: string;
  state: 'active' | 'completed' | 'cancelled';
  lastStep: string;
  steps: WorkStep[];
}

function stepStatus(status: string): string {
  const key = `proj.step.${status}`;
  return hasAdminKey(key) ? ax(key) : status;
}

export async function projectsScreen(app: App): Promise<Screen> {
  const status = message('proj-message');
  const q = h('input', { type: 'search', testid: 'proj-search', placeholder: ax('proj.searchHint') });
  const from = h('input', { type: 'date', testid: 'proj-from' });
  const to = h('input', { type: 'date', testid: 'proj-to' });
  const people = await fetchAll<User>(app, '/api/users?active=true', 2000);
  const owner = select({ testid: 'proj-owner' }, [['', ax('proj.anyOwner')], ...(people.ok ? people.items : []).map((u) => [u.id, u.displayName] as const)], '');
  const customer = h('input', { type: 'search', testid: 'proj-customer', placeholder: ax('proj.customerHint') });
  const state = select({ testid: 'proj-state' }, [['', ax('proj.anyState')], ['active', ax('proj.state.active')], ['completed', ax('proj.state.completed')], ['cancelled', ax('proj.state.cancelled')]], '');
  const count = h('p', { class: 'list-count', testid: 'proj-count', 'aria-live': 'polite' });
  const listBox = h('div', { testid: 'proj-list' });
  const stepsBox = h('div', { class: 'admin-col', testid: 'proj-steps' });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let items: Project[] = [];

  async function load(): Promise<void> {
    const params = new URLSearchParams({ limit: '100' });
    if (q.value.trim()) params.set('q', q.value.trim());
    if (from.value) params.set('startFrom', from.value);
    if (to.value) params.set('startTo', to.value);
    if (owner.value) params.set('ownerId', owner.value);
    if (state.value) params.set('state', state.value);
    if (customer.value.trim()) {
      // One customer matches: its projects. Several: the server's search covers customers' names too.
      const found = await app.api.get<Page<{ id: string }>>(`/api/accounts?q=${encodeURIComponent(customer.value.trim())}&limit=2`);
      if (found.ok && found.data.items.length === 1) params.set('accountId', found.data.items[0]!.id);
      else if (found.ok && found.data.items.length > 1 && !params.has('q')) params.set('q', customer.value.trim());
      else if (found.ok && found.data.items.length > 1) params.set('accountId', found.data.items[0]!.id);
      else {
        items = [];
        count.textContent = ax('proj.noCustomer');
        count.dataset.count = '0';
        return render();
      }
    }
    count.textContent = ax('loading');
    const r = await app.api.get<Page<Project>>(`/api/projects?${params}`);
    if (!r.ok) {
      count.textContent = '';
      return status.set(problemText(r));
    }
    status.set('');
    items = r.data.items;
    count.textContent = ax('proj.count', { n: r.data.total });
    count.dataset.count = String(r.data.total);
    render();
  }

  async function open(row: Project): Promise<void> {
    // The list carries no steps: the project's own read has them with their deadlines.
    const r = await app.api.get<Project>(`/api/projects/${encodeURIComponent(row.id)}`);
    if (!r.ok) return status.set(problemText(r));
    showSteps(r.data);
  }

  function showSteps(project: Project): void {
    clear(
      stepsBox,
      h(
        'section',
        { class: 'card', testid: 'proj-detail', 'data-id': project.id },
        h('h2', { class: 'card-title' }, h('a', { href: salesHref.project(project.id) }, project.name)),
        h('p', { class: 'muted small' }, `${project.accountName} · ${project.ownerName} · ${formatDate(project.startDate)}`),
        h(
          'ol',
          { class: 'proj-steps' },
          project.steps.map((step) =>
            h(
              'li',
              { testid: 'proj-step', 'data-status': step.status, 'data-overdue': String(step.overdue), class: step.overdue ? 'proj-step cov-overdue' : 'proj-step' },
              h('strong', null, step.label || step.name),
              h(
                'span',
                { class: 'small' },
                ` · ${stepStatus(step.status)}`,
                step.completedAt ? ` · ${ax('proj.doneAt', { time: formatDateTime(step.completedAt) })}` : step.dueAt ? ` · ${ax('proj.dueAt', { time: formatDateTime(step.dueAt) })}` : '',
                step.overdue ? ` · ${ax('proj.overdue')}` : '',
              ),
            ),
          ),
        ),
      ),
    );
  }

  function render(): void {
    clear(
      listBox,
      items.length
        ? dataTable(
            ax('proj.title'),
            'proj-table',
            [ax('proj.name'), ax('proj.customer'), ax('proj.owner'), ax('proj.start'), ax('proj.stateCol')],
            items.map((p) =>
              h(
                'tr',
                { testid: 'proj-row', 'data-id': p.id, 'data-state': p.state },
                h('td', null, h('button', { type: 'button', class: 'link-btn', testid: 'proj-open', onclick: () => void open(p) }, p.name)),
                h('td', null, p.accountName),
                h('td', null, p.ownerName),
                h('td', null, formatDate(p.startDate)),
                h('td', null, ax(`proj.state.${p.state}`), p.lastStep ? h('span', { class: 'muted small' }, ` · ${p.lastStep}`) : null),
              ),
            ),
            [],
            [2, 4],
          )
        : h('p', { class: 'empty', testid: 'proj-empty' }, ax('proj.none')),
    );
  }

  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void load(), 300);
  };
  for (const input of [q, customer]) input.addEventListener('input', later);
  for (const input of [from, to, owner, state]) input.addEventListener('change', () => void load());
  await load();
  return {
    el: h(
      'div',
      { testid: 'proj-screen' },
      status.el,
      h(
        'div',
        { class: 'filters admin-filters' },
        labelled('proj-search', ax('proj.name'), q),
        labelled('proj-customer', ax('proj.customer'), customer),
        labelled('proj-owner', ax('proj.owner'), owner),
        labelled('proj-state', ax('proj.stateCol'), state),
        labelled('proj-from', ax('proj.startFrom'), from),
        labelled('proj-to', ax('proj.startTo'), to),
      ),
      count,
      h('div', { class: 'admin-two' }, h('div', { class: 'admin-col' }, listBox), stepsBox),
    ),
    title: ax('proj.title'),
    back: '#/admin',
    destroy: () => clearTimeout(timer),
  };
}
