// The task mutations of docs/tasks.md (task.create / task.update / task.complete / task.skip) and
// what each does to the device's copy: applied at once, in the transaction that queues it; replayed
// until the server has it; rolled back (the server's copy put back, a task made here dropped) when
// the server rejects it.
import type { LocalTask, Tx } from '../db/db';
import type { Author } from '../sync/mutations';

export type TaskKind = 'call' | 'visit' | 'follow_up' | 'document' | 'collection' | 'retention' | 'other';
export type TaskPriority = 'low' | 'normal' | 'high' | 'urgent';
export const TASK_KINDS: readonly TaskKind[] = ['call', 'visit', 'follow_up', 'document', 'collection', 'retention', 'other'];
export const TASK_PRIORITIES: readonly TaskPriority[] = ['low', 'normal', 'high', 'urgent'];

/** The fields a person sets on a task (the POST /api/tasks body, camelCase). */
export interface TaskFields {
  title: string;
  dueDate: string;
  dueTime: string | null;
  accountId: string | null;
  kind: TaskKind;
  priority: TaskPriority;
  description: string;
}

export interface TaskMutationArgs {
  'task.create': TaskFields & { id: string };
  'task.update': { id: string; changes: Partial<TaskFields>; baseVersion: number | null };
  'task.complete': { id: string; outcome: string };
  'task.skip': { id: string; reason: string };
}

export type TaskName = keyof TaskMutationArgs;
type TaskChange = { [N in TaskName]: { name: N; args: TaskMutationArgs[N] } }[TaskName];
type TaskMutation = { [N in TaskName]: { id: number; name: N; args: TaskMutationArgs[N]; capturedAt: string } }[TaskName];

const NAMES = new Set<string>(['task.create', 'task.update', 'task.complete', 'task.skip']);

export function isTask<T extends { name: string }>(m: T): m is Extract<T, { name: TaskName }> {
  return NAMES.has(m.name);
}

export function taskRowKey(m: TaskChange): string {
  return `tasks:${m.args.id}`;
}

export function taskAccountOf(m: TaskChange): string {
  return m.name === 'task.create' ? (m.args.accountId ?? '') : '';
}

/** A task as the device shows it (server fields it reads, and the local marks). */
export type WorkTask = LocalTask & {
  title: string;
  dueDate: string;
  dueTime: string | null;
  state: 'open' | 'done' | 'skipped';
  kind: TaskKind;
  priority: TaskPriority;
  accountName?: string | null;
  outcome?: string;
  skipReason?: string;
  completedAt?: string | null;
  version?: number;
  _pending?: boolean;
  _base?: LocalTask | null;
};

/** The device's copy of a task made here, until the server's arrives with the next pull. */
export function newLocalTask(args: TaskMutationArgs['task.create'], capturedAt: string, author: Author | null, accountName: string | null): WorkTask {
  return {
    ...args,
    accountName,
    assigneeId: author?.id ?? '',
    assigneeName: author?.name ?? '',
    creatorId: author?.id ?? null,
    state: 'open',
    source: 'manual',
    outcome: '',
    skipReason: '',
    completedAt: null,
    version: 0,
    createdAt: capturedAt,
    updatedAt: capturedAt,
  };
}

export async function applyTask(tx: Tx, m: TaskMutation, author: Author | null): Promise<void> {
  const store = tx.objectStore('tasks');
  if (m.name === 'task.create') {
    const existing = (await store.get(m.args.id)) as WorkTask | undefined;
    if (existing && !existing._pending) return;
    const accountName = m.args.accountId ? ((await tx.objectStore('accounts').get(m.args.accountId))?.name ?? null) : null;
    const row = existing ?? { ...newLocalTask(m.args, m.capturedAt, author, accountName), _base: null };
    await store.put({ ...row, ...m.args, accountName, _pending: true, _base: existing?._base ?? null });
    return;
  }
  const row = (await store.get(m.args.id)) as WorkTask | undefined;
  if (!row) return;
  const base = row._base !== undefined ? row._base : stripLocal(row);
  let next: WorkTask;
  if (m.name === 'task.update') {
    const changes = { ...m.args.changes };
    let accountName = row.accountName ?? null;
    if (changes.accountId !== undefined) {
      accountName = changes.accountId ? ((await tx.objectStore('accounts').get(changes.accountId))?.name ?? null) : null;
    }
    next = { ...row, ...changes, accountName };
  } else if (m.name === 'task.complete') {
    next = { ...row, state: 'done', outcome: m.args.outcome, completedAt: row.completedAt ?? m.capturedAt };
  } else {
    next = { ...row, state: 'skipped', skipReason: m.args.reason };
  }
  await store.put({ ...next, _pending: true, _base: base });
}

function stripLocal(row: WorkTask): LocalTask {
  const { _pending, _base, ...rest } = row;
  void _pending;
  void _base;
  return rest;
}

export async function rollBackTask(tx: Tx, m: TaskMutation): Promise<void> {
  const store = tx.objectStore('tasks');
  const row = (await store.get(m.args.id)) as WorkTask | undefined;
  if (!row || row._base === undefined) return;
  if (row._base === null) await store.delete(row.id);
  else await store.put({ ...row._base });
}

/** Every queued change of the task has reached the server: the pending mark goes (the pull brings its copy). */
export async function settleTask(tx: Tx, id: string): Promise<void> {
  const store = tx.objectStore('tasks');
  const row = (await store.get(id)) as WorkTask | undefined;
  if (!row || (row._pending === undefined && row._base === undefined)) return;
  delete row._pending;
  delete row._base;
  await store.put(row);
}
