// The work chunk's entry: the rep's Home (#/home), tasks (#/tasks[/<filter>], #/tasks/new[/<account>],
// #/tasks/edit/<id>), the week calendar (#/calendar[/<day>]), the leaders' Team (#/team) and HQ's
// dashboard (#/dashboard[/<level>/<id>]). Device data first (IndexedDB); server figures are fetched
// when online and kept in the cache store with the time they were fetched, for offline reading.
import './work.css';
import type { App } from '../app';
import type { CacheRow, LocalPlan } from '../db/db';
import { formatDate, formatDateTime, formatMoney, formatNumber, getLocale } from '../i18n';
import { uuid } from '../lib/uuid';
import { clear, h, select } from '../ui/dom';
import { field, textArea, textInput } from '../ui/form';
import { href, type Route } from '../ui/router';
import type { Screen } from '../ui/shell';
import { w, type WorkKey } from './i18n';
import { workHref } from './lazy';
import {
  TARGET_KEYS,
  TASK_FILTERS,
  checkTask,
  childGroup,
  drillTarget,
  filterTasks,
  isStale,
  isoDay,
  mergeCalendar,
  nextMonth,
  parseDrill,
  parseTargets,
  problemFields,
  progressBars,
  addDays,
  taskChanges,
  taskCounts,
  trendSeries,
  weekDays,
  weekStart,
  type Bar,
  type CalItem,
  type Level,
  type TargetKey,
  type TargetValues,
  type TaskFilter,
} from './logic';
import { TASK_KINDS, TASK_PRIORITIES, type TaskFields, type WorkTask } from './mutations';

export async function workScreens(app: App, route: Route): Promise<Screen> {
  if (route.name !== 'work') throw new Error('wrong route');
  const [root, b, c] = route.parts;
  switch (root) {
    case 'tasks':
      if (b === 'new') return taskFormScreen(app, null, c ?? null);
      if (b === 'edit' && c) return taskFormScreen(app, c, null);
      return tasksScreen(app, (TASK_FILTERS as readonly string[]).includes(b ?? '') ? (b as TaskFilter) : 'today');
    case 'calendar':
      return calendarScreen(app, b && /^\d{4}-\d{2}-\d{2}$/.test(b) ? b : isoDay(new Date()));
    case 'team':
      return teamScreen(app);
    case 'dashboard':
      return dashboardScreen(app, parseDrill(route.parts));
    default:
      return homeScreen(app);
  }
}

// ---------- shared bits ----------

const today = () => isoDay(new Date());

async function allTasks(app: App): Promise<WorkTask[]> {
  return (await app.db.getAll('tasks')) as WorkTask[];
}

/** A server answer, fresh when online, else the last copy kept on the device (with its time). */
async function cached<T>(app: App, key: string, path: string): Promise<{ data: T; at: string } | null> {
  if (navigator.onLine) {
    const result = await app.api.get<T>(path);
    if (result.ok) {
      const row: CacheRow = { key, at: new Date().toISOString(), data: result.data };
      await app.db.put('cache', row);
      return { data: result.data, at: row.at };
    }
  }
  const row = await app.db.get('cache', key);
  return row ? { data: row.data as T, at: row.at } : null;
}

function asOf(at: string): HTMLElement {
  const stale = isStale(at, new Date());
  return h('p', { class: stale ? 'muted small work-stale' : 'muted small', testid: 'as-of' }, w(stale ? 'stale' : 'asOf', { time: formatDateTime(at) }));
}

function section(title: string, testid: string, ...body: (Node | null)[]): HTMLElement {
  const id = `${testid}-h`;
  return h('section', { class: 'card', testid, 'aria-labelledby': id }, h('h2', { class: 'card-title', id }, title), ...body);
}

function pct(share: number | null | undefined): string {
  return share === null || share === undefined ? '—' : `${Math.round(share * 100)}%`;
}

function barValue(bar: Pick<Bar, 'key'>, n: number): string {
  return bar.key === 'wonRevenueCents' ? formatMoney(n, true) : formatNumber(n);
}

function progressList(bars: readonly Bar[], testid: string): HTMLElement {
  return h(
    'ul',
    { class: 'plain-list work-bars', testid },
    bars.map((bar) => {
      const label = w(`target.${bar.key}` as WorkKey);
      return h(
        'li',
        { class: 'work-bar', 'data-key': bar.key },
        h('div', { class: 'work-bar-head' }, h('span', null, label), h('span', { class: 'muted' }, `${barValue(bar, bar.value)} / ${barValue(bar, bar.target)} · ${pct(bar.share)}`)),
        h('progress', { max: 100, value: Math.min(100, Math.round(bar.share * 100)), 'aria-label': `${label} ${pct(bar.share)}` }),
      );
    }),
  );
}

// ---------- Home ----------

interface KpiReportLite {
  name: string;
  current: { period: { label: string }; values: Record<string, unknown>; targets: TargetValues; progress: Record<string, number | null> };
  previous: { values: Record<string, unknown> };
}

async function homeScreen(app: App): Promise<Screen> {
  const targets = h('div', { testid: 'home-targets' }, h('p', { class: 'muted' }, w('loading')));
  const due = h('ul', { class: 'plain-list', testid: 'home-due' });
  const plan = h('ul', { class: 'plain-list', testid: 'home-plan' });
  const neglected = h('ul', { class: 'plain-list', testid: 'home-neglected' });
  const week = h('p', { testid: 'home-week' });
  const el = h(
    'div',
    { class: 'stack work', testid: 'home' },
    h('div', { class: 'row work-actions' }, h('a', { class: 'btn btn-primary', href: workHref.taskNew(), testid: 'home-add-task' }, w('tasks.add')), h('a', { class: 'btn', href: workHref.tasks() }, w('home.allTasks')), h('a', { class: 'btn', href: workHref.calendar() }, w('home.calendar'))),
    section(w('home.week'), 'home-week-card', week),
    section(w('home.month'), 'home-month', targets),
    section(w('home.due'), 'home-due-card', due),
    section(w('home.plan'), 'home-plan-card', plan),
    section(w('home.neglected'), 'home-neglected-card', neglected),
  );

  const readLocal = async () => {
    const day = today();
    const tasks = await allTasks(app);
    const list = [...filterTasks(tasks, 'overdue', day), ...filterTasks(tasks, 'today', day)];
    const days = weekDays(day);
    const weekPlans = (await app.db.getAll('plans')).filter((p) => p.date >= days[0]! && p.date <= days[6]! && p.status !== 'cancelled');
    const weekDone = tasks.filter((t) => t.state === 'done' && String(t.completedAt ?? '').slice(0, 10) >= days[0]!).length;
    week.textContent = w('home.weekLine', { open: filterTasks(tasks, 'week', day).length, done: weekDone, planned: weekPlans.length, visited: weekPlans.filter((p) => p.status === 'done').length });
    clear(due, list.length ? list.map((t) => taskItem(app, t, day)) : h('li', { class: 'empty' }, w('home.noneDue')));
    const plans = ((await app.db.getAllFromIndex('plans', 'byDate', day)) as LocalPlan[]).filter((p) => p.status !== 'cancelled').sort((a, b) => (a._seq ?? 0) - (b._seq ?? 0));
    clear(
      plan,
      plans.length
        ? plans.map((p) => h('li', { class: 'work-row' }, h('a', { href: href.account(p.accountId) }, p.accountName), p.status === 'done' ? h('span', { class: 'badge status-active' }, '✓') : null, p.purpose ? h('span', { class: 'muted small' }, p.purpose) : null))
        : h('li', { class: 'empty' }, w('home.noPlan')),
    );
    const me = app.me?.user.id;
    const cutoff = addDays(day, -30);
    const accounts = (await app.db.getAll('accounts')).filter((a) => (!me || a.ownerId === me) && a.status !== 'lost' && (!a.lastVisitedOn || a.lastVisitedOn < cutoff));
    accounts.sort((a, b) => (a.tier ?? 'Z').localeCompare(b.tier ?? 'Z') || (a.lastVisitedOn ?? '').localeCompare(b.lastVisitedOn ?? ''));
    clear(
      neglected,
      accounts.length
        ? accounts.slice(0, 8).map((a) =>
            h('li', { class: 'work-row' }, h('a', { href: href.account(a.id) }, a.name), a.tier ? h('span', { class: 'badge' }, a.tier) : null, h('span', { class: 'muted small' }, a.lastVisitedOn ? w('home.lastVisit', { date: formatDate(a.lastVisitedOn) }) : w('home.never'))),
          )
        : h('li', { class: 'empty' }, w('home.noNeglected')),
    );
  };
  const readKpis = async () => {
    const got = await cached<KpiReportLite>(app, 'work:kpis:me', '/api/kpis?level=rep&period=month');
    if (!got) return clear(targets, h('p', { class: 'muted' }, w('noCopy')));
    const bars = progressBars(got.data.current.values, got.data.current.targets);
    clear(targets, h('p', { class: 'muted small' }, got.data.current.period.label), bars.length ? progressList(bars, 'home-bars') : h('p', { class: 'empty' }, w('home.noTargets')), asOf(got.at));
  };
  await readLocal();
  void readKpis();
  return { el, title: w('home.title'), refresh: readLocal };
}

// ---------- tasks ----------

function taskItem(app: App, task: WorkTask, day: string): HTMLElement {
  const overdue = task.state === 'open' && task.dueDate < day;
  const sub = h('div', { class: 'work-task-more', hidden: true });
  const li = h(
    'li',
    { class: 'work-task', testid: 'task-item', 'data-id': task.id, 'data-state': task.state },
    h(
      'div',
      { class: 'work-task-head' },
      task.state === 'open'
        ? h('button', { type: 'button', class: 'work-check', testid: 'task-complete', 'aria-label': w('task.completeOf', { title: task.title }), title: w('task.complete'), onclick: () => openComplete() }, '')
        : h('span', { class: 'work-check work-check-on', 'aria-hidden': 'true' }, '✓'),
      h(
        'div',
        { class: 'work-task-main' },
        h('span', { class: task.state === 'open' ? 'work-task-title' : 'work-task-title work-done' }, task.title),
        h(
          'span',
          { class: 'muted small' },
          [formatDate(task.dueDate), task.dueTime ?? '', w(`kind.${task.kind}` as WorkKey), task.accountName ?? ''].filter(Boolean).join(' · '),
        ),
        task.state === 'skipped' ? h('span', { class: 'muted small' }, w('task.skipped', { reason: String(task.skipReason ?? '') })) : null,
        task.state === 'done' && task.outcome ? h('span', { class: 'muted small' }, String(task.outcome)) : null,
      ),
      h(
        'div',
        { class: 'work-task-badges' },
        overdue ? h('span', { class: 'badge status-lost', testid: 'task-overdue' }, w('task.overdue')) : null,
        task.priority === 'high' || task.priority === 'urgent' ? h('span', { class: 'badge' }, w(`prio.${task.priority}`)) : null,
        task._pending ? h('span', { class: 'badge badge-pending', testid: 'task-pending' }, w('pending')) : null,
      ),
    ),
    task.state === 'open'
      ? h(
          'div',
          { class: 'row work-task-actions' },
          h('button', { type: 'button', class: 'btn btn-small', testid: 'task-skip', onclick: () => openSkip() }, w('task.skip')),
          h('a', { class: 'btn btn-small', href: workHref.taskEdit(task.id), testid: 'task-edit' }, w('task.editLink')),
        )
      : null,
    sub,
  );
  const openComplete = () => {
    const input = field(`outcome-${task.id}`, w('task.outcome'), textInput({ testid: 'task-outcome', maxlength: 2000 }));
    clear(
      sub,
      input.row,
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'button', class: 'btn btn-primary btn-small', testid: 'task-complete-confirm', onclick: () => void done(input.input.value.trim()) }, w('task.confirmDone')),
        h('button', { type: 'button', class: 'btn btn-small', onclick: () => (sub.hidden = true) }, w('cancel')),
      ),
    );
    sub.hidden = false;
    input.input.focus();
  };
  const done = async (outcome: string) => {
    await app.save({ name: 'task.complete', args: { id: task.id, outcome } });
    app.toast(navigator.onLine ? w('savedOnline') : w('saved'));
  };
  const openSkip = () => {
    const input = field(`reason-${task.id}`, w('task.skipReason'), textInput({ testid: 'task-reason', maxlength: 500 }));
    clear(
      sub,
      input.row,
      h(
        'div',
        { class: 'row' },
        h(
          'button',
          {
            type: 'button',
            class: 'btn btn-small btn-danger-outline',
            testid: 'task-skip-confirm',
            onclick: async () => {
              const reason = input.input.value.trim();
              if (!reason) return input.setError(w('task.reasonNeeded'));
              await app.save({ name: 'task.skip', args: { id: task.id, reason } });
              app.toast(navigator.onLine ? w('savedOnline') : w('saved'));
            },
          },
          w('task.confirmSkip'),
        ),
        h('button', { type: 'button', class: 'btn btn-small', onclick: () => (sub.hidden = true) }, w('cancel')),
      ),
    );
    sub.hidden = false;
    input.input.focus();
  };
  return li;
}

async function tasksScreen(app: App, filter: TaskFilter): Promise<Screen> {
  const list = h('ul', { class: 'plain-list work-tasks', testid: 'task-list' });
  const tabs = h('nav', { class: 'seg work-filters', 'aria-label': w('tasks.title'), testid: 'task-filters' });
  const el = h('div', { class: 'stack work', testid: 'tasks' }, h('div', { class: 'row work-actions' }, h('a', { class: 'btn btn-primary', href: workHref.taskNew(), testid: 'task-add' }, w('tasks.add'))), tabs, list);
  const read = async () => {
    const day = today();
    const tasks = await allTasks(app);
    const counts = taskCounts(tasks, day);
    clear(
      tabs,
      TASK_FILTERS.map((f) =>
        h('a', { class: f === filter ? 'seg-btn seg-on' : 'seg-btn', href: workHref.tasks(f), testid: `filter-${f}`, 'aria-current': f === filter ? 'page' : undefined }, h('span', null, w(`filter.${f}`)), h('span', { class: 'work-count' }, formatNumber(counts[f]))),
      ),
    );
    const shown = filterTasks(tasks, filter, day);
    clear(list, shown.length ? shown.map((t) => taskItem(app, t, day)) : h('li', { class: 'empty', testid: 'tasks-empty' }, w('tasks.none')));
  };
  await read();
  return { el, title: w('tasks.title'), back: workHref.home(), refresh: read };
}

async function taskFormScreen(app: App, id: string | null, accountId: string | null): Promise<Screen> {
  const task = id ? ((await app.db.get('tasks', id)) as WorkTask | undefined) : undefined;
  if (id && !task) return { el: h('p', { class: 'empty' }, w('task.notFound')), title: w('task.edit'), back: workHref.tasks() };
  const accounts = (await app.db.getAll('accounts')).filter((a) => !a._deleted).sort((a, b) => a.name.localeCompare(b.name, getLocale()));
  const title = field('task-title', w('task.titleField'), textInput({ testid: 'task-title', maxlength: 200, required: true, value: task?.title ?? '' }));
  const due = field('task-due', w('task.due'), h('input', { type: 'date', testid: 'task-due', required: true, value: task?.dueDate ?? today() }));
  const time = field('task-time', w('task.time'), h('input', { type: 'time', testid: 'task-time', value: task?.dueTime ?? '' }));
  const account = field(
    'task-account',
    w('task.account'),
    select({ testid: 'task-account' }, [['', w('task.noAccount')], ...accounts.map((a) => [a.id, a.name] as const)], task ? String(task.accountId ?? '') : (accountId ?? '')),
  );
  const kind = field('task-kind', w('task.kind'), select({ testid: 'task-kind' }, TASK_KINDS.map((k) => [k, w(`kind.${k}` as WorkKey)] as const), task?.kind ?? (accountId ? 'follow_up' : 'other')));
  const priority = field('task-priority', w('task.priority'), select({ testid: 'task-priority' }, TASK_PRIORITIES.map((p) => [p, w(`prio.${p}` as WorkKey)] as const), task?.priority ?? 'normal'));
  const notes = field('task-notes', w('task.notes'), textArea({ testid: 'task-notes', maxlength: 4000, value: String(task?.description ?? '') }));
  const back = accountId ? href.account(accountId) : workHref.tasks();
  const form = h(
    'form',
    {
      class: 'stack card work-form',
      testid: 'task-form',
      novalidate: true,
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const fields: TaskFields = {
          title: title.input.value.trim(),
          dueDate: due.input.value,
          dueTime: time.input.value || null,
          accountId: account.input.value || null,
          kind: kind.input.value as TaskFields['kind'],
          priority: priority.input.value as TaskFields['priority'],
          description: notes.input.value.trim(),
        };
        const errors = checkTask(fields);
        title.setError(errors.title ? w(errors.title) : undefined);
        due.setError(errors.dueDate ? w(errors.dueDate) : undefined);
        time.setError(errors.dueTime ? w(errors.dueTime) : undefined);
        if (Object.keys(errors).length) return;
        if (task) {
          const changes = taskChanges(task, fields);
          if (Object.keys(changes).length) await app.save({ name: 'task.update', args: { id: task.id, changes, baseVersion: typeof task.version === 'number' && task.version > 0 ? task.version : null } });
        } else {
          await app.save({ name: 'task.create', args: { id: uuid(), ...fields } });
        }
        app.toast(navigator.onLine ? w('savedOnline') : w('saved'));
        location.hash = back;
      },
    },
    title.row,
    h('div', { class: 'work-two' }, due.row, time.row),
    account.row,
    h('div', { class: 'work-two' }, kind.row, priority.row),
    notes.row,
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'btn btn-primary', testid: 'task-save' }, w('save')), h('a', { class: 'btn', href: back }, w('cancel'))),
  );
  return { el: h('div', { class: 'stack work' }, form), title: w(task ? 'task.edit' : 'task.new'), back };
}

// ---------- week calendar ----------

interface ServerCalendar {
  items: { kind: string; id: string; title: string; date: string; start: string; allDay: boolean; url: string; state: string }[];
}

async function calendarScreen(app: App, day: string): Promise<Screen> {
  const days = weekDays(day);
  const grid = h('div', { class: 'work-week', testid: 'week' });
  const note = h('div');
  const feed = h('div', { testid: 'feed' });
  const start = weekStart(day);
  const el = h(
    'div',
    { class: 'stack work work-wide' },
    h(
      'div',
      { class: 'row work-actions' },
      h('a', { class: 'btn btn-small', href: workHref.calendar(addDays(start, -7)), testid: 'week-prev' }, `‹ ${w('cal.prev')}`),
      h('a', { class: 'btn btn-small', href: workHref.calendar(), testid: 'week-this' }, w('cal.thisWeek')),
      h('a', { class: 'btn btn-small', href: workHref.calendar(addDays(start, 7)), testid: 'week-next' }, `${w('cal.next')} ›`),
    ),
    note,
    grid,
    section(w('cal.feed'), 'feed-card', h('p', { class: 'muted small' }, w('cal.feedHelp')), feed),
  );
  let server: CalItem[] = [];
  const draw = async () => {
    const plans = (await app.db.getAll('plans')).filter((p) => p.date >= days[0]! && p.date <= days[6]! && p.status !== 'cancelled');
    const tasks = (await allTasks(app)).filter((t) => t.dueDate >= days[0]! && t.dueDate <= days[6]! && t.state !== 'skipped');
    const local: CalItem[] = [
      ...plans.map((p) => ({ key: `plan:${p.id}`, kind: 'plan', date: p.date, time: null, title: p.accountName, url: href.account(p.accountId), state: p.status, pending: !!p._pending })),
      ...tasks.map((t) => ({ key: `task:${t.id}`, kind: 'task', date: t.dueDate, time: t.dueTime, title: t.title, url: workHref.taskEdit(t.id), state: t.state, pending: !!t._pending })),
    ];
    const byDay = mergeCalendar(days, local, server);
    const now = today();
    clear(
      grid,
      days.map((d) => {
        const items = byDay.get(d) ?? [];
        return h(
          'section',
          { class: d === now ? 'work-day work-today' : 'work-day', testid: 'week-day', 'data-date': d, 'aria-label': formatDate(d) },
          h('h2', { class: 'work-day-head' }, new Intl.DateTimeFormat(getLocale(), { weekday: 'short', month: 'numeric', day: 'numeric' }).format(new Date(`${d}T00:00:00`))),
          items.length
            ? h(
                'ul',
                { class: 'plain-list' },
                items.map((i) =>
                  h(
                    'li',
                    { class: `work-cal work-cal-${i.kind}`, testid: 'cal-item', 'data-kind': i.kind },
                    h('a', { href: i.url }, h('span', { class: 'work-cal-kind' }, w(`cal.kind.${i.kind}` as WorkKey) || i.kind), ' ', i.time ? `${i.time} ` : '', i.title),
                    i.state === 'done' ? ' ✓' : '',
                    i.pending ? h('span', { class: 'badge badge-pending' }, w('pending')) : null,
                  ),
                ),
              )
            : h('p', { class: 'muted small' }, w('cal.empty')),
        );
      }),
    );
  };
  const fetchServer = async () => {
    const got = await cached<ServerCalendar>(app, `work:cal:${days[0]}`, `/api/calendar?from=${days[0]}&to=${days[6]}`);
    if (!got) return;
    server = got.data.items
      .filter((i) => i.kind !== 'task' && i.kind !== 'plan')
      .map((i) => ({ key: `${i.kind}:${i.id}`, kind: i.kind, date: i.date, time: i.allDay ? null : i.start.slice(11, 16), title: i.title, url: i.url.startsWith('#') ? i.url : `#${i.url.replace(/^#?/, '')}`, state: i.state }));
    clear(note, asOf(got.at));
    await draw();
  };
  await draw();
  void fetchServer();
  void feedBox(app, feed);
  return { el, title: w('cal.title'), back: workHref.home(), refresh: draw };
}

async function feedBox(app: App, box: HTMLElement): Promise<void> {
  if (!navigator.onLine) return clear(box, h('p', { class: 'muted' }, w('offline')));
  const status = await app.api.get<{ exists: boolean; createdAt?: string | null }>('/api/calendar/feed');
  const exists = status.ok && status.data.exists;
  const make = async () => {
    const result = await app.api.post<{ url: string; createdAt: string }>('/api/calendar/feed');
    if (!result.ok) return app.toast(result.problem?.detail ?? w('offline'));
    // A phone's calendar app needs the whole address.
    const address = new URL(result.data.url, location.origin).href;
    const urlInput = h('input', { type: 'text', readOnly: true, value: address, testid: 'feed-url', 'aria-label': w('cal.feed'), class: 'work-url' });
    clear(
      box,
      h('p', { class: 'field-error', role: 'status' }, w('cal.feedOnce')),
      h(
        'div',
        { class: 'row' },
        urlInput,
        h(
          'button',
          {
            type: 'button',
            class: 'btn btn-small',
            testid: 'feed-copy',
            onclick: async () => {
              try {
                await navigator.clipboard.writeText(address);
              } catch {
                urlInput.select();
              }
              app.toast(w('cal.copied'));
            },
          },
          w('cal.copy'),
        ),
      ),
      h('button', { type: 'button', class: 'btn btn-small btn-danger-outline', testid: 'feed-revoke', onclick: () => void revoke() }, w('cal.feedRevoke')),
    );
  };
  const revoke = async () => {
    await app.api.send('DELETE', '/api/calendar/feed');
    await feedBox(app, box);
  };
  clear(
    box,
    h('p', { testid: 'feed-status' }, exists ? w('cal.feedOn', { date: status.ok && status.data.createdAt ? formatDate(status.data.createdAt) : '' }) : w('cal.feedNone')),
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'button', class: 'btn btn-small', testid: 'feed-create', onclick: () => void make() }, w(exists ? 'cal.feedRotate' : 'cal.feedCreate')),
      exists ? h('button', { type: 'button', class: 'btn btn-small btn-danger-outline', testid: 'feed-revoke', onclick: () => void revoke() }, w('cal.feedRevoke')) : null,
    ),
  );
}

// ---------- Team ----------

interface LeaderRowLite {
  rank: number;
  key: string;
  name: string;
  level: string;
  visitsDone: number;
  wonRevenueCents: number;
  wonRevenueProgress: number | null;
  winRate: number | null;
  quotesSent: number;
  newOpportunities: number;
  kpis: string | null;
  drillDown: string | null;
}
interface LeaderboardLite {
  groupBy: string;
  within: { level: string; name: string; href: string };
  period: { label: string; start: string; end: string };
  rows: LeaderRowLite[];
}

function leaderTable(rows: readonly LeaderRowLite[], onPick: (row: LeaderRowLite) => void, testid: string, firstCol: string): HTMLElement {
  if (!rows.length) return h('p', { class: 'empty' }, w('team.none'));
  return h(
    'div',
    { class: 'work-scroll', tabindex: 0, role: 'region', 'aria-label': firstCol },
    h(
      'table',
      { class: 'work-table', testid },
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, '#'), h('th', { scope: 'col' }, firstCol), h('th', { scope: 'col', class: 'num' }, w('team.visits')), h('th', { scope: 'col', class: 'num' }, w('team.won')), h('th', { scope: 'col', class: 'num' }, w('team.progress')), h('th', { scope: 'col', class: 'num' }, w('team.quotes')))),
      h(
        'tbody',
        null,
        rows.map((r) =>
          h(
            'tr',
            { testid: 'leader-row', 'data-key': r.key },
            h('td', null, String(r.rank)),
            h('td', null, h('button', { type: 'button', class: 'linkish', onclick: () => onPick(r) }, r.name)),
            h('td', { class: 'num' }, formatNumber(r.visitsDone)),
            h('td', { class: 'num' }, formatMoney(r.wonRevenueCents, true)),
            h('td', { class: 'num' }, pct(r.wonRevenueProgress)),
            h('td', { class: 'num' }, formatNumber(r.quotesSent)),
          ),
        ),
      ),
    ),
  );
}

async function teamScreen(app: App): Promise<Screen> {
  const board = h('div', { testid: 'team-board' }, h('p', { class: 'muted' }, w('loading')));
  const detail = h('div', { testid: 'team-detail' });
  const overdue = h('ul', { class: 'plain-list', testid: 'team-overdue' });
  const counts = h('div', { class: 'work-tiles', testid: 'team-counts' });
  const targetsBox = h('div', { testid: 'team-targets' });
  const el = h(
    'div',
    { class: 'stack work work-wide' },
    h('div', { class: 'row work-actions' }, h('a', { class: 'btn btn-small', href: workHref.dashboard(), testid: 'team-dashboard' }, w('dash.title'))),
    counts,
    section(w('team.leaderboard'), 'team-board-card', board, detail),
    section(w('team.overdue'), 'team-overdue-card', overdue),
    section(w('team.targets', { month: nextMonth(today()) }), 'team-targets-card', targetsBox),
  );
  let reps: LeaderRowLite[] = [];
  const readLocal = async () => {
    const day = today();
    const me = app.me?.user.id;
    const late = filterTasks(await allTasks(app), 'overdue', day).filter((t) => t.assigneeId !== me);
    clear(
      overdue,
      late.length ? late.map((t) => h('li', { class: 'work-row', testid: 'team-overdue-item' }, h('strong', null, t.title), h('span', { class: 'muted small' }, `${String(t.assigneeName ?? '')} · ${formatDate(t.dueDate)}${t.accountName ? ` · ${t.accountName}` : ''}`))) : h('li', { class: 'empty' }, w('team.noOverdue')),
    );
    const cases = (await app.db.getAll('cases')).filter((c) => c.kind !== 'project' && (c.state === 'open' || c.state === 'in_progress') && (c.overdue || (c.dueAt && c.dueAt < new Date().toISOString())));
    const approvals = await cached<{ total: number }>(app, 'work:approvals', '/api/approvals?limit=1');
    clear(
      counts,
      h('a', { class: 'work-tile', href: '#/approvals', testid: 'team-approvals' }, h('span', { class: 'work-tile-n' }, approvals ? formatNumber(approvals.data.total) : '—'), h('span', null, w('team.approvals'))),
      h('div', { class: 'work-tile', testid: 'team-cases' }, h('span', { class: 'work-tile-n' }, formatNumber(cases.length)), h('span', null, w('team.cases'))),
    );
  };
  const showRep = async (row: LeaderRowLite) => {
    clear(detail, h('p', { class: 'muted' }, w('loading')));
    const got = await cached<KpiReportLite>(app, `work:kpis:rep:${row.key}`, `/api/kpis?level=rep&id=${encodeURIComponent(row.key)}&period=month`);
    if (!got) return clear(detail, h('p', { class: 'muted' }, w('noCopy')));
    const bars = progressBars(got.data.current.values, got.data.current.targets);
    clear(
      detail,
      h('h3', { class: 'section-title', testid: 'team-rep-name' }, w('team.kpisOf', { name: got.data.name })),
      bars.length ? progressList(bars, 'team-rep-bars') : h('p', { class: 'empty' }, w('home.noTargets')),
      kpiTiles(got.data.current.values),
    );
    detail.scrollIntoView?.({ block: 'nearest' });
  };
  const readBoard = async () => {
    const got = await cached<LeaderboardLite>(app, 'work:board:team', '/api/kpis/leaderboard?groupBy=rep&period=month');
    if (!got) return clear(board, h('p', { class: 'muted' }, w('noCopy')));
    reps = got.data.rows;
    clear(board, h('p', { class: 'muted small' }, `${got.data.within.name} · ${got.data.period.label}`), leaderTable(reps, (r) => void showRep(r), 'leaderboard', w('team.rep')), asOf(got.at));
    targetForm(app, targetsBox, reps);
  };
  await readLocal();
  void readBoard();
  return { el, title: w('team.title'), refresh: readLocal };
}

function targetForm(app: App, box: HTMLElement, reps: readonly LeaderRowLite[]): void {
  const month = nextMonth(today());
  const who = field('target-rep', w('team.pickRep'), select({ testid: 'target-rep' }, reps.map((r) => [r.key, r.name] as const), reps[0]?.key ?? ''));
  const inputs = Object.fromEntries(TARGET_KEYS.map((k) => [k, field(`target-${k}`, w(`target.${k}` as WorkKey), textInput({ inputmode: k === 'wonRevenueCents' ? 'decimal' : 'numeric', testid: `target-${k}` }))])) as Record<TargetKey, ReturnType<typeof field<HTMLInputElement>>>;
  const status = h('p', { class: 'muted small', role: 'status', testid: 'target-status' });
  const form = h(
    'form',
    {
      class: 'stack',
      testid: 'target-form',
      novalidate: true,
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const raw = Object.fromEntries(TARGET_KEYS.map((k) => [k, inputs[k].input.value])) as Record<TargetKey, string>;
        const { values, errors } = parseTargets(raw);
        for (const k of TARGET_KEYS) inputs[k].setError(errors[k] ? w(k === 'wonRevenueCents' ? 'badMoney' : 'badNumber') : undefined);
        if (Object.keys(errors).length) return void (status.textContent = w('team.fixFields'));
        if (!navigator.onLine) return void (status.textContent = w('offline'));
        const result = await app.api.send('PUT', `/api/targets/rep/${encodeURIComponent(who.input.value)}/${month}`, values);
        if (result.ok) {
          status.textContent = w('team.targetsSaved');
          return;
        }
        const byField = problemFields(result.problem);
        for (const k of TARGET_KEYS) inputs[k].setError(byField[k] || undefined);
        status.textContent = result.problem?.detail ?? w('team.fixFields');
      },
    },
    who.row,
    h('div', { class: 'work-grid' }, TARGET_KEYS.map((k) => inputs[k].row)),
    h('button', { type: 'submit', class: 'btn btn-primary', testid: 'target-save' }, w('team.setTargets')),
    status,
  );
  clear(box, reps.length ? form : h('p', { class: 'empty' }, w('team.none')));
}

// ---------- KPI tiles (Team's drill-down and the dashboard) ----------

function kpiTiles(v: Record<string, unknown>, targets?: TargetValues): HTMLElement {
  const n = (k: string) => (typeof v[k] === 'number' ? (v[k] as number) : null);
  const coverage = (v.coverage as { all?: number | null } | undefined)?.all ?? null;
  const tiles: [WorkKey, string, string | null][] = [
    ['kpi.visitsDone', formatNumber(n('visitsDone') ?? 0), null],
    ['kpi.planCompletion', pct(n('planCompletion')), null],
    ['kpi.verifiedShare', pct(n('verifiedShare')), null],
    ['kpi.coverage', pct(coverage), null],
    ['kpi.newOpportunities', formatNumber(n('newOpportunities') ?? 0), targets?.newOpportunities ? w('kpi.target', { value: formatNumber(targets.newOpportunities) }) : null],
    ['kpi.pipelineWeighted', formatMoney(n('pipelineWeightedCents') ?? 0, true), null],
    ['kpi.wonRevenue', formatMoney(n('wonRevenueCents') ?? 0, true), targets?.wonRevenueCents ? w('kpi.target', { value: formatMoney(targets.wonRevenueCents, true) }) : null],
    ['kpi.winRate', pct(n('winRate')), null],
    ['kpi.quotesSent', formatNumber(n('quotesSent') ?? 0), null],
    ['kpi.avgDiscount', n('avgDiscountBp') === null ? '—' : `${((n('avgDiscountBp') ?? 0) / 100).toFixed(1)}%`, null],
    ['kpi.caseBreaches', formatNumber(n('caseSlaBreaches') ?? 0), null],
    ['kpi.tasksOnTime', pct(n('tasksOnTimeShare')), null],
  ];
  return h(
    'ul',
    { class: 'plain-list work-tiles', testid: 'kpi-tiles' },
    tiles.map(([key, value, sub]) => h('li', { class: 'work-tile' }, h('span', { class: 'work-tile-n' }, value), h('span', null, w(key)), sub ? h('span', { class: 'muted small' }, sub) : null)),
  );
}

// ---------- HQ dashboard ----------

interface TrendLite {
  name: string;
  points: Record<string, unknown>[];
}

const CHARTS: { key: string; title: WorkKey; series: string[]; money: boolean }[] = [
  { key: 'won', title: 'dash.wonTrend', series: ['wonRevenueCents', 'wonRevenueTargetCents'], money: true },
  { key: 'visits', title: 'dash.visitTrend', series: ['visitsDone'], money: false },
  { key: 'opps', title: 'dash.oppTrend', series: ['newOpportunities'], money: false },
];

async function dashboardScreen(app: App, at: { level: Level; id: string | null }): Promise<Screen> {
  const subject = at.id ? `&level=${at.level}&id=${encodeURIComponent(at.id)}` : '&level=hq';
  const tiles = h('div', { testid: 'dash-kpis' }, h('p', { class: 'muted' }, w('loading')));
  const charts = h('div', { class: 'work-charts', testid: 'dash-charts' });
  const breakdown = h('div', { testid: 'dash-breakdown' });
  const group = childGroup(at.level);
  const lang = getLocale();
  const within = at.id ? `&within=${encodeURIComponent(at.id)}` : '';
  const exportQ = group === 'account' ? `groupBy=account&rep=${encodeURIComponent(at.id ?? '')}` : `groupBy=${group}${within}`;
  const exportsRow = h(
    'div',
    { class: 'row work-exports', testid: 'dash-exports' },
    h('span', { class: 'muted small' }, w('dash.export')),
    h('a', { class: 'btn btn-small', href: `/api/kpis/leaderboard/export?format=csv&period=month&${exportQ}&lang=${lang}`, download: '', testid: 'export-csv' }, `${w('dash.breakdown', { level: w(`level.${group}` as WorkKey) })} · ${w('dash.exportCsv')}`),
    h('a', { class: 'btn btn-small', href: `/api/kpis/leaderboard/export?format=xlsx&period=month&${exportQ}&lang=${lang}`, download: '', testid: 'export-xlsx' }, `${w('dash.breakdown', { level: w(`level.${group}` as WorkKey) })} · ${w('dash.exportXlsx')}`),
    h('a', { class: 'btn btn-small', href: `/api/reports/revenue-by-region/export?format=xlsx${subject}&lang=${lang}`, download: '', testid: 'export-revenue' }, `${w('kpi.wonRevenue')} · ${w('dash.exportXlsx')}`),
  );
  const up = at.level !== 'hq' ? h('a', { class: 'btn btn-small', href: workHref.dashboard(), testid: 'dash-up' }, `‹ ${w('dash.up')}`) : null;
  const el = h(
    'div',
    { class: 'stack work work-wide', testid: 'dashboard', 'data-level': at.level },
    up,
    section(w('dash.kpis'), 'dash-kpis-card', tiles),
    section(w('dash.trend'), 'dash-trend-card', charts),
    section(w('dash.breakdown', { level: w(`level.${group}` as WorkKey) }), 'dash-breakdown-card', breakdown, exportsRow),
  );
  let destroyCharts: (() => void)[] = [];

  const readKpis = async () => {
    const got = await cached<KpiReportLite>(app, `work:dash:kpis:${at.level}:${at.id ?? ''}`, `/api/kpis?period=month${subject}`);
    if (!got) return clear(tiles, h('p', { class: 'muted' }, w('noCopy')));
    clear(tiles, h('p', { class: 'muted small', testid: 'dash-name' }, `${got.data.name} · ${got.data.current.period.label}`), kpiTiles(got.data.current.values, got.data.current.targets), asOf(got.at));
  };
  const readTrend = async () => {
    const got = await cached<TrendLite>(app, `work:dash:trend:${at.level}:${at.id ?? ''}`, `/api/kpis/trend?period=month${subject}`);
    if (!got) return clear(charts, h('p', { class: 'muted' }, w('noCopy')));
    const { drawChart } = await import('./chart');
    for (const d of destroyCharts) d();
    destroyCharts = [];
    clear(charts);
    for (const spec of CHARTS) {
      const { labels, series } = trendSeries(got.data.points, spec.series);
      const names = spec.series.map((s) => (s === 'wonRevenueTargetCents' ? w('kpi.targetCol') : s === 'wonRevenueCents' ? w('kpi.wonRevenue') : w(spec.title)));
      const fmt = (v: number | null) => (v === null ? '—' : spec.money ? formatMoney(v, true) : formatNumber(v));
      const plot = h('div', { class: 'work-plot', testid: `chart-${spec.key}`, role: 'img', 'aria-label': w('dash.chartOf', { title: w(spec.title), from: labels[0] ?? '', to: labels[labels.length - 1] ?? '' }) });
      const table = h(
        'div',
        { class: 'work-scroll', hidden: true, tabindex: 0, role: 'region', 'aria-label': w(spec.title) },
        h(
          'table',
          { class: 'work-table', testid: `table-${spec.key}` },
          h('thead', null, h('tr', null, h('th', { scope: 'col' }, w('kpi.period')), names.map((n) => h('th', { scope: 'col', class: 'num' }, n)))),
          h('tbody', null, labels.map((label, i) => h('tr', null, h('th', { scope: 'row' }, label), series.map((s) => h('td', { class: 'num' }, fmt(s[i] ?? null)))))),
        ),
      );
      const toggle = h('button', { type: 'button', class: 'btn btn-small', testid: `toggle-${spec.key}`, 'aria-pressed': 'false' }, w('dash.table'));
      toggle.addEventListener('click', () => {
        const showTable = table.hidden;
        table.hidden = !showTable;
        plot.hidden = showTable;
        toggle.textContent = w(showTable ? 'dash.chart' : 'dash.table');
        toggle.setAttribute('aria-pressed', String(showTable));
      });
      charts.append(h('figure', { class: 'work-figure' }, h('div', { class: 'work-figure-head' }, h('figcaption', { class: 'section-title' }, w(spec.title)), toggle), plot, table));
      destroyCharts.push(drawChart(plot, labels, series, names, fmt, !spec.money));
    }
  };
  const readBreakdown = async () => {
    const q = group === 'account' ? `groupBy=account&rep=${encodeURIComponent(at.id ?? '')}` : `groupBy=${group}${within}`;
    const got = await cached<LeaderboardLite>(app, `work:dash:board:${at.level}:${at.id ?? ''}`, `/api/kpis/leaderboard?period=month&${q}`);
    if (!got) return clear(breakdown, h('p', { class: 'muted' }, w('noCopy')));
    clear(
      breakdown,
      leaderTable(
        got.data.rows,
        (row) => {
          if (row.level === 'account') {
            location.hash = href.account(row.key);
            return;
          }
          const to = drillTarget(row.kpis, row.level) ?? { level: row.level as Level, id: row.key };
          location.hash = workHref.dashboard(to.level, to.id);
        },
        'dash-board',
        w(`level.${group}` as WorkKey),
      ),
    );
  };
  void readKpis();
  void readTrend();
  void readBreakdown();
  return {
    el,
    title: w('dash.title'),
    back: at.level !== 'hq' ? workHref.dashboard() : undefined,
    destroy: () => destroyCharts.forEach((d) => d()),
  };
}
