// The work screens' pure logic: which tasks fall in which list, the week's days, target progress
// bars from a KPI report, the calendar's merge of local and server items, the drill-down path and
// the checks of the task and target forms. No DOM and no database: vitest runs these directly.
import type { WorkTask, TaskFields } from './mutations';

export type TaskFilter = 'today' | 'overdue' | 'week' | 'done';
export const TASK_FILTERS: readonly TaskFilter[] = ['today', 'overdue', 'week', 'done'];

/** YYYY-MM-DD of a local date. */
export function isoDay(d: Date): string {
  const m = String(d.getMonth() + 1).padStart(2, '0');
  const day = String(d.getDate()).padStart(2, '0');
  return `${d.getFullYear()}-${m}-${day}`;
}

export function addDays(iso: string, n: number): string {
  const [y, m, d] = iso.split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d + n));
  return date.toISOString().slice(0, 10);
}

/** Monday of the week of `iso` (weeks start on Monday in China). */
export function weekStart(iso: string): string {
  const [y, m, d] = iso.split('-').map(Number) as [number, number, number];
  const dow = new Date(Date.UTC(y, m - 1, d)).getUTCDay(); // 0 = Sunday
  return addDays(iso, -((dow + 6) % 7));
}

export function weekDays(iso: string): string[] {
  const start = weekStart(iso);
  return Array.from({ length: 7 }, (_, i) => addDays(start, i));
}

/** The month after the one `iso` falls in, as YYYY-MM. */
export function nextMonth(iso: string): string {
  const [y, m] = iso.split('-').map(Number) as [number, number];
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
}

function byDue(a: WorkTask, b: WorkTask): number {
  return (a.dueDate + (a.dueTime ?? '99:99')).localeCompare(b.dueDate + (b.dueTime ?? '99:99')) || a.title.localeCompare(b.title);
}

/** The tasks of one list, in the order shown (done: latest first; the others: earliest due first). */
export function filterTasks(tasks: readonly WorkTask[], filter: TaskFilter, today: string): WorkTask[] {
  const week = weekDays(today);
  const first = week[0]!;
  const last = week[6]!;
  let out: WorkTask[];
  switch (filter) {
    case 'today':
      out = tasks.filter((t) => t.state === 'open' && t.dueDate === today);
      break;
    case 'overdue':
      out = tasks.filter((t) => t.state === 'open' && t.dueDate < today);
      break;
    case 'week':
      out = tasks.filter((t) => t.state === 'open' && t.dueDate >= first && t.dueDate <= last);
      break;
    case 'done':
      return tasks
        .filter((t) => t.state !== 'open')
        .sort((a, b) => String(b.completedAt ?? b.updatedAt ?? '').localeCompare(String(a.completedAt ?? a.updatedAt ?? '')));
  }
  return out.sort(byDue);
}

export function taskCounts(tasks: readonly WorkTask[], today: string): Record<TaskFilter, number> {
  return {
    today: filterTasks(tasks, 'today', today).length,
    overdue: filterTasks(tasks, 'overdue', today).length,
    week: filterTasks(tasks, 'week', today).length,
    done: filterTasks(tasks, 'done', today).length,
  };
}

export type FormErrors<K extends string> = Partial<Record<K, 'required' | 'tooLong' | 'badDate' | 'badTime' | 'badNumber'>>;

/** The quick-add form's checks (the server checks again). */
export function checkTask(f: Pick<TaskFields, 'title' | 'dueDate' | 'dueTime'>): FormErrors<'title' | 'dueDate' | 'dueTime'> {
  const errors: FormErrors<'title' | 'dueDate' | 'dueTime'> = {};
  const title = f.title.trim();
  if (!title) errors.title = 'required';
  else if (title.length > 200) errors.title = 'tooLong';
  if (!f.dueDate) errors.dueDate = 'required';
  else if (!/^\d{4}-\d{2}-\d{2}$/.test(f.dueDate) || Number.isNaN(Date.parse(`${f.dueDate}T00:00:00Z`))) errors.dueDate = 'badDate';
  if (f.dueTime && !/^([01]\d|2[0-3]):[0-5]\d$/.test(f.dueTime)) errors.dueTime = 'badTime';
  return errors;
}

/** Only the fields that differ from the task (what task.update sends). */
export function taskChanges(before: WorkTask, after: TaskFields): Partial<TaskFields> {
  const changes: Partial<TaskFields> = {};
  const keys: (keyof TaskFields)[] = ['title', 'dueDate', 'dueTime', 'accountId', 'kind', 'priority', 'description'];
  for (const key of keys) {
    const was = (before as unknown as Record<string, unknown>)[key] ?? (key === 'description' ? '' : null);
    if (was !== after[key]) (changes as Record<string, unknown>)[key] = after[key];
  }
  return changes;
}

export const TARGET_KEYS = ['visitsA', 'visitsB', 'visitsC', 'newOpportunities', 'wonRevenueCents', 'quotesSent', 'tasksOnTime'] as const;
export type TargetKey = (typeof TARGET_KEYS)[number];
export type TargetValues = Partial<Record<TargetKey, number | null>>;

/** A progress bar: what was done, the target and the share (capped at 1 for the bar, not the label). */
export interface Bar {
  key: TargetKey;
  value: number;
  target: number;
  share: number;
}

/** The bars of a KPI report's current block: one per KPI with a target. */
export function progressBars(values: Record<string, unknown>, targets: TargetValues): Bar[] {
  const tiers = (values.visitsByTier ?? {}) as { a?: number; b?: number; c?: number };
  const done: Record<TargetKey, number> = {
    visitsA: tiers.a ?? 0,
    visitsB: tiers.b ?? 0,
    visitsC: tiers.c ?? 0,
    newOpportunities: Number(values.newOpportunities ?? 0),
    wonRevenueCents: Number(values.wonRevenueCents ?? 0),
    quotesSent: Number(values.quotesSent ?? 0),
    tasksOnTime: Number(values.tasksOnTime ?? 0),
  };
  const bars: Bar[] = [];
  for (const key of TARGET_KEYS) {
    const target = targets[key];
    if (target === null || target === undefined || target <= 0) continue;
    bars.push({ key, value: done[key], target, share: done[key] / target });
  }
  return bars;
}

/** The target form's text fields -> the PUT body (yuan -> cents); errors per field. */
export function parseTargets(inputs: Record<TargetKey, string>): { values: TargetValues; errors: FormErrors<TargetKey> } {
  const values: TargetValues = {};
  const errors: FormErrors<TargetKey> = {};
  for (const key of TARGET_KEYS) {
    const raw = inputs[key].trim().replace(/[,，\s]/g, '');
    if (!raw) {
      values[key] = null;
      continue;
    }
    const money = key === 'wonRevenueCents';
    const ok = money ? /^\d{1,12}(\.\d{1,2})?$/.test(raw) : /^\d{1,7}$/.test(raw);
    if (!ok) {
      errors[key] = 'badNumber';
      continue;
    }
    values[key] = money ? Math.round(Number(raw) * 100) : Number(raw);
  }
  return { values, errors };
}

/** The server's field errors (problem+json `extra`/`errors`) mapped onto the target form's keys. */
export function problemFields(problem: unknown): Partial<Record<TargetKey, string>> {
  const out: Partial<Record<TargetKey, string>> = {};
  const p = (problem ?? {}) as { field?: string; detail?: string; errors?: { field?: string; key?: string; message?: string }[]; extra?: unknown };
  const list = Array.isArray(p.errors) ? p.errors : Array.isArray(p.extra) ? (p.extra as { key?: string; field?: string; message?: string }[]) : [];
  const camel = (s: string) => s.replace(/^(values\.|data\.)/, '').replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  for (const e of list) {
    const name = camel(String(e.field ?? e.key ?? ''));
    if ((TARGET_KEYS as readonly string[]).includes(name)) out[name as TargetKey] = e.message ?? p.detail ?? '';
  }
  if (p.field) {
    const name = camel(p.field);
    if ((TARGET_KEYS as readonly string[]).includes(name)) out[name as TargetKey] = p.detail ?? '';
  }
  return out;
}

/** One item of the week calendar, from the device (plans, tasks) or the server (approvals, holding ends). */
export interface CalItem {
  key: string;
  kind: string;
  date: string;
  time: string | null;
  title: string;
  url: string;
  state: string;
  pending?: boolean;
}

/** The week's items by day: the device's own first (they are what changed last), then the server's others. */
export function mergeCalendar(days: readonly string[], local: readonly CalItem[], server: readonly CalItem[]): Map<string, CalItem[]> {
  const map = new Map<string, CalItem[]>(days.map((d) => [d, []]));
  const seen = new Set<string>();
  for (const item of local) {
    if (!map.has(item.date)) continue;
    seen.add(item.key);
    map.get(item.date)!.push(item);
  }
  for (const item of server) {
    if (!map.has(item.date) || seen.has(item.key)) continue;
    seen.add(item.key);
    map.get(item.date)!.push(item);
  }
  for (const list of map.values()) list.sort((a, b) => (a.time ?? '').localeCompare(b.time ?? '') || a.title.localeCompare(b.title));
  return map;
}

export type Level = 'hq' | 'province' | 'city' | 'team' | 'rep';
const LEVELS: readonly Level[] = ['hq', 'province', 'city', 'team', 'rep'];
const CHILD: Record<Level, 'province' | 'city' | 'team' | 'rep' | 'account'> = { hq: 'province', province: 'city', city: 'team', team: 'rep', rep: 'account' };

/** The leaderboard grouping one level down from `level`. */
export function childGroup(level: Level): 'province' | 'city' | 'team' | 'rep' | 'account' {
  return CHILD[level];
}

/** #/dashboard[/<level>/<id>] -> where the dashboard stands. */
export function parseDrill(parts: readonly string[]): { level: Level; id: string | null } {
  const level = parts[1] as Level | undefined;
  if (level && LEVELS.includes(level) && level !== 'hq' && parts[2]) return { level, id: parts[2] };
  return { level: 'hq', id: null };
}

/** A leaderboard row's link (the API's `#/...` or `/api/kpis?level=…&id=…`) -> its level and id. */
export function drillTarget(link: string | null | undefined, groupBy: string): { level: Level; id: string } | null {
  if (!link) return null;
  const query = link.includes('?') ? link.slice(link.indexOf('?') + 1) : '';
  const params = new URLSearchParams(query);
  const level = (params.get('level') ?? groupBy) as Level;
  const id = params.get('id') ?? params.get('within') ?? params.get('rep') ?? link.split(/[/?#]/).filter(Boolean).pop() ?? '';
  if (!LEVELS.includes(level) || !id) return null;
  return { level, id };
}

/** A trend as chart series: x = 0..n-1, one array per KPI (null where the figure is missing). */
export function trendSeries(points: readonly Record<string, unknown>[], keys: readonly string[]): { labels: string[]; series: (number | null)[][] } {
  const labels = points.map((p) => String((p.period as { label?: string } | undefined)?.label ?? ''));
  const series = keys.map((k) => points.map((p) => (typeof p[k] === 'number' ? (p[k] as number) : null)));
  return { labels, series };
}

/** Whether a cached copy is older than `hours` (shown as "as of …, may be out of date"). */
export function isStale(fetchedAt: string | undefined, now: Date, hours = 12): boolean {
  if (!fetchedAt) return true;
  return now.getTime() - Date.parse(fetchedAt) > hours * 3600 * 1000;
}
