// What the service worker does with a push and with a tap on a notification, written against small
// interfaces (not the worker's globals) so that it type-checks with the page and runs in tests.
//
// A push is a hint: it is always shown (browsers punish silent pushes), it carries only a title,
// a body, a route and, for approvals, the step; opening the app pulls the fresh state.
import type { DecisionQueue, QueuedDecision } from './store';

export interface PushAction {
  action: string;
  title: string;
}

export interface PushPayload {
  id?: string;
  kind?: string;
  title: string;
  body: string;
  url: string;
  tag?: string;
  lang?: string;
  stepId?: string;
  actions?: PushAction[];
}

export interface WindowLike {
  url: string;
  focus(): Promise<unknown>;
  postMessage(message: unknown): void;
}

export interface SwDeps {
  origin: string;
  fetch: typeof fetch;
  csrf(): Promise<string | null>;
  show(title: string, options: Record<string, unknown>): Promise<void>;
  windows(): Promise<readonly WindowLike[]>;
  openWindow(url: string): Promise<unknown>;
  queue: DecisionQueue;
  /** ask for a background sync (where the browser has one) so queued approvals go out when online */
  requestSync(): Promise<void>;
}

export const DECISIONS_SYNC_TAG = 'fieldcrm-decisions';
const ICON = '/icons/icon-192.png';

// The few words the service worker says itself (it has no catalogues): by the push's language.
type Words = Record<'fallbackTitle' | 'fallbackBody' | 'approved' | 'queued' | 'failed' | 'signIn', string>;

const WORDS: Record<'en' | 'zh-CN', Words> = {
  en: {
    fallbackTitle: 'fieldcrm',
    fallbackBody: 'Something new is waiting for you.',
    approved: 'Approved: {title}',
    queued: 'Approval saved: it is sent when you are back online',
    failed: 'Not approved: {detail}',
    signIn: 'Sign in to approve',
  },
  'zh-CN': {
    fallbackTitle: 'fieldcrm',
    fallbackBody: '有新的消息等您处理。',
    approved: '已批准：{title}',
    queued: '已保存审批：联网后自动提交',
    failed: '未能批准：{detail}',
    signIn: '请先登录再审批',
  },
};

function words(lang: string | undefined): Words {
  return lang === 'en' ? WORDS.en : WORDS['zh-CN'];
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined;
}

/** The payload of a push event; anything unreadable still becomes a notification. */
export function parsePayload(data: { json(): unknown; text(): string } | null | undefined, lang?: string): PushPayload {
  let raw: unknown = null;
  try {
    raw = data ? data.json() : null;
  } catch {
    raw = null;
  }
  const w = words(lang);
  if (!raw || typeof raw !== 'object') {
    let text: string | undefined;
    try {
      text = data ? str(data.text()) : undefined;
    } catch {
      text = undefined;
    }
    return { title: w.fallbackTitle, body: text ?? w.fallbackBody, url: '' };
  }
  const p = raw as Record<string, unknown>;
  const actions = Array.isArray(p.actions)
    ? p.actions.filter((a): a is PushAction => !!a && typeof a === 'object' && !!str((a as PushAction).action) && !!str((a as PushAction).title))
    : undefined;
  const payload: PushPayload = {
    title: str(p.title) ?? w.fallbackTitle,
    body: str(p.body) ?? '',
    url: str(p.url) ?? '',
  };
  const id = str(p.id);
  const kind = str(p.kind);
  const tag = str(p.tag);
  const payloadLang = str(p.lang);
  const stepId = str(p.stepId);
  if (id) payload.id = id;
  if (kind) payload.kind = kind;
  if (tag) payload.tag = tag;
  if (payloadLang) payload.lang = payloadLang;
  if (stepId) payload.stepId = stepId;
  if (actions?.length) payload.actions = actions;
  return payload;
}

/** showNotification's options for a payload (actions only where the browser shows them). */
export function notificationOptions(payload: PushPayload, maxActions: number): Record<string, unknown> {
  const options: Record<string, unknown> = {
    body: payload.body,
    icon: ICON,
    badge: ICON,
    data: payload,
    timestamp: Date.now(),
  };
  if (payload.lang) options.lang = payload.lang;
  if (payload.tag) {
    options.tag = payload.tag;
    options.renotify = true; // a newer state of the same quote replaces the old one, and still alerts
  }
  if (payload.actions && maxActions > 0) options.actions = payload.actions.slice(0, maxActions);
  return options;
}

/** The app's address for a route such as "#/quotes/<id>". */
export function routeUrl(origin: string, route: string): string {
  const hash = route.startsWith('#') ? route : route ? `#/${route.replace(/^\/+/, '')}` : '';
  return new URL(`/${hash}`, origin).href;
}

/** Show the app at a route: focus a window of ours if one is open (and move it there), else open one. */
export async function openRoute(deps: SwDeps, route: string): Promise<'focused' | 'opened'> {
  const target = routeUrl(deps.origin, route);
  const ours = (await deps.windows()).filter((w) => w.url.startsWith(deps.origin));
  const client = ours.find((w) => w.url === target) ?? ours[0];
  if (client) {
    client.postMessage({ type: 'OPEN_URL', url: new URL(target).hash || '#/' });
    try {
      await client.focus();
    } catch {
      /* focusing needs the tap's user activation; the window still moved to the route */
    }
    return 'focused';
  }
  await deps.openWindow(target);
  return 'opened';
}

type DecideOutcome = { kind: 'done' } | { kind: 'offline' } | { kind: 'signed-out' } | { kind: 'refused'; detail: string };

/** POST the approval (the decision endpoint with the queued decision's Idempotency-Key). */
export async function sendDecision(deps: SwDeps, decision: QueuedDecision): Promise<DecideOutcome> {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    Accept: 'application/json',
    'Idempotency-Key': decision.key,
  };
  const token = await deps.csrf();
  if (token) headers['X-CSRF-Token'] = token;
  let response: Response;
  try {
    response = await deps.fetch(`/api/approvals/${encodeURIComponent(decision.stepId)}/decision`, {
      method: 'POST',
      headers,
      credentials: 'same-origin',
      body: JSON.stringify({ decision: 'approve' }),
    });
  } catch {
    return { kind: 'offline' };
  }
  if (response.ok) return { kind: 'done' };
  if (response.status === 401) return { kind: 'signed-out' };
  if (response.status >= 500 || response.status === 429) return { kind: 'offline' }; // passing: try again later
  let detail = `HTTP ${response.status}`;
  try {
    const body = (await response.json()) as { detail?: unknown };
    if (typeof body.detail === 'string') detail = body.detail;
  } catch {
    /* not JSON: keep the status */
  }
  return { kind: 'refused', detail };
}

async function report(deps: SwDeps, decision: QueuedDecision, outcome: DecideOutcome): Promise<void> {
  const w = words(decision.lang);
  const data = { url: decision.url, title: decision.title, body: '', lang: decision.lang };
  const tag = `decision-${decision.stepId}`;
  if (outcome.kind === 'done') {
    await deps.show(w.approved.replace('{title}', decision.title), { tag, data, icon: ICON, lang: decision.lang });
    for (const client of await deps.windows()) client.postMessage({ type: 'PUSH' }); // open pages pull the new state
  } else if (outcome.kind === 'refused') {
    await deps.show(w.failed.replace('{detail}', outcome.detail), { tag, data, icon: ICON, body: decision.title });
  } else if (outcome.kind === 'offline') {
    await deps.show(w.queued, { tag, data, icon: ICON, body: decision.title });
  }
}

/** The Approve action: send it now, or keep it for when the network is back. */
export async function approve(deps: SwDeps, payload: PushPayload): Promise<string> {
  if (!payload.stepId) return openRoute(deps, payload.url); // nothing to decide from here: show it
  const decision: QueuedDecision = {
    key: `push-approve-${payload.stepId}`,
    stepId: payload.stepId,
    url: payload.url,
    title: payload.title,
    lang: payload.lang ?? 'zh-CN',
    queuedAt: Date.now(),
  };
  const outcome = await sendDecision(deps, decision);
  if (outcome.kind === 'offline') {
    await deps.queue.add(decision);
    await deps.requestSync();
  }
  if (outcome.kind === 'signed-out') {
    await deps.show(words(decision.lang).signIn, { tag: `decision-${decision.stepId}`, data: payload, icon: ICON, body: payload.title });
    await openRoute(deps, payload.url);
  }
  await report(deps, decision, outcome);
  return outcome.kind;
}

/** Send the approvals queued while offline; keep those that still cannot go. */
export async function flushDecisions(deps: SwDeps): Promise<number> {
  let sent = 0;
  for (const decision of await deps.queue.all()) {
    const outcome = await sendDecision(deps, decision);
    if (outcome.kind === 'offline') continue;
    await deps.queue.remove(decision.key);
    if (outcome.kind !== 'signed-out') await report(deps, decision, outcome);
    if (outcome.kind === 'done') sent += 1;
  }
  return sent;
}

/** A tap on a notification or one of its actions. */
export async function handleClick(deps: SwDeps, action: string, data: unknown): Promise<string> {
  const payload = (data && typeof data === 'object' ? data : { title: '', body: '', url: '' }) as PushPayload;
  if (action === 'approve') return approve(deps, payload);
  return openRoute(deps, payload.url ?? '');
}
