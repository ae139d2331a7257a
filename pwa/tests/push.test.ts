// The service worker's push logic: what a push shows, where a tap goes, Approve online and offline.
import { describe, expect, it } from 'vitest';
import { flushDecisions, handleClick, notificationOptions, parsePayload, routeUrl, type SwDeps, type WindowLike } from '../src/push/sw-logic';
import type { QueuedDecision } from '../src/push/store';

const ORIGIN = 'https://crm.example';
const STEP = '5b0a3c1e-6a4e-4b36-9d0c-7f9e2c1d0a11';

function payload(extra: Record<string, unknown> = {}): { json(): unknown; text(): string } {
  const body = {
    v: 1,
    id: 'n1',
    kind: 'approval.requested',
    title: '待审批：报价 Q-2026-00001',
    body: 'Manager approval · Rep A 提交',
    url: '#/quotes/q1',
    tag: 'quote-q1',
    lang: 'zh-CN',
    stepId: STEP,
    actions: [
      { action: 'approve', title: '批准' },
      { action: 'open', title: '打开' },
    ],
    ...extra,
  };
  return { json: () => body, text: () => JSON.stringify(body) };
}

interface Fake {
  deps: SwDeps;
  shown: { title: string; options: Record<string, unknown> }[];
  requests: { url: string; init: RequestInit }[];
  opened: string[];
  windows: (WindowLike & { messages: unknown[]; focused: number })[];
  queued: Map<string, QueuedDecision>;
  answer: { status: number; body?: unknown } | 'offline';
}

function fake(windowUrls: string[] = []): Fake {
  const f: Fake = {
    shown: [],
    requests: [],
    opened: [],
    windows: windowUrls.map((url) => ({
      url,
      messages: [] as unknown[],
      focused: 0,
      focus() {
        this.focused += 1;
        return Promise.resolve(this);
      },
      postMessage(message: unknown) {
        this.messages.push(message);
      },
    })),
    queued: new Map(),
    answer: { status: 200, body: {} },
    deps: undefined as unknown as SwDeps,
  };
  f.deps = {
    origin: ORIGIN,
    fetch: async (input, init) => {
      f.requests.push({ url: String(input), init: init ?? {} });
      if (f.answer === 'offline') throw new TypeError('Failed to fetch');
      return new Response(JSON.stringify(f.answer.body ?? {}), { status: f.answer.status, headers: { 'content-type': 'application/json' } });
    },
    csrf: async () => 'csrf-token',
    show: async (title, options) => {
      f.shown.push({ title, options });
    },
    windows: async () => f.windows,
    openWindow: async (url) => {
      f.opened.push(url);
    },
    queue: {
      add: async (d) => {
        f.queued.set(d.key, d);
      },
      all: async () => [...f.queued.values()],
      remove: async (key) => {
        f.queued.delete(key);
      },
    },
    requestSync: async () => undefined,
  };
  return f;
}

describe('a push', () => {
  it('becomes a notification with its tag, route and actions', () => {
    const p = parsePayload(payload());
    const options = notificationOptions(p, 2);
    expect(p.title).toBe('待审批：报价 Q-2026-00001');
    expect(options).toMatchObject({ body: 'Manager approval · Rep A 提交', tag: 'quote-q1', renotify: true, lang: 'zh-CN' });
    expect(options.actions).toEqual([
      { action: 'approve', title: '批准' },
      { action: 'open', title: '打开' },
    ]);
    expect(notificationOptions(p, 0).actions).toBeUndefined();
  });

  it('that cannot be read is still shown', () => {
    const broken = { json: () => { throw new SyntaxError('bad'); }, text: () => 'plain words' };
    expect(parsePayload(broken)).toEqual({ title: 'fieldcrm', body: 'plain words', url: '' });
    expect(parsePayload(null, 'en').body).toBe('Something new is waiting for you.');
  });
});

describe('a tap', () => {
  it('opens the route in a new window when none is open', async () => {
    const f = fake();
    expect(await handleClick(f.deps, '', parsePayload(payload()))).toBe('opened');
    expect(f.opened).toEqual([routeUrl(ORIGIN, '#/quotes/q1')]);
    expect(f.opened[0]).toBe('https://crm.example/#/quotes/q1');
  });

  it('focuses an open window and moves it to the route', async () => {
    const f = fake([`${ORIGIN}/#/accounts`, 'https://elsewhere.example/']);
    expect(await handleClick(f.deps, 'open', parsePayload(payload()))).toBe('focused');
    expect(f.opened).toEqual([]);
    expect(f.windows[0]!.focused).toBe(1);
    expect(f.windows[0]!.messages).toEqual([{ type: 'OPEN_URL', url: '#/quotes/q1' }]);
    expect(f.windows[1]!.messages).toEqual([]);
  });
});

describe('Approve', () => {
  it('posts the decision with an Idempotency-Key and the CSRF token', async () => {
    const f = fake();
    expect(await handleClick(f.deps, 'approve', parsePayload(payload()))).toBe('done');
    const [request] = f.requests;
    expect(request!.url).toBe(`/api/approvals/${STEP}/decision`);
    expect(request!.init.method).toBe('POST');
    expect(JSON.parse(String(request!.init.body))).toEqual({ decision: 'approve' });
    expect(request!.init.headers).toMatchObject({ 'Idempotency-Key': `push-approve-${STEP}`, 'X-CSRF-Token': 'csrf-token' });
    expect(f.shown.map((s) => s.title)).toEqual(['已批准：待审批：报价 Q-2026-00001']);
  });

  it('offline is queued and sent later with the same key', async () => {
    const f = fake();
    f.answer = 'offline';
    expect(await handleClick(f.deps, 'approve', parsePayload(payload({ lang: 'en' })))).toBe('offline');
    expect([...f.queued.keys()]).toEqual([`push-approve-${STEP}`]);
    expect(f.shown.map((s) => s.title)).toEqual(['Approval saved: it is sent when you are back online']);
    expect(await flushDecisions(f.deps)).toBe(0); // still offline: kept
    expect(f.queued.size).toBe(1);
    f.answer = { status: 200 };
    expect(await flushDecisions(f.deps)).toBe(1);
    expect(f.queued.size).toBe(0);
    const keys = f.requests.map((r) => (r.init.headers as Record<string, string>)['Idempotency-Key']);
    expect(new Set(keys)).toEqual(new Set([`push-approve-${STEP}`]));
  });

  it('refused says why, and is not retried', async () => {
    const f = fake();
    f.answer = { status: 409, body: { detail: 'already decided by Director' } };
    expect(await handleClick(f.deps, 'approve', parsePayload(payload({ lang: 'en' })))).toBe('refused');
    expect(f.shown.map((s) => s.title)).toEqual(['Not approved: already decided by Director']);
    expect(f.queued.size).toBe(0);
  });

  it('signed out opens the app instead', async () => {
    const f = fake();
    f.answer = { status: 401 };
    expect(await handleClick(f.deps, 'approve', parsePayload(payload()))).toBe('signed-out');
    expect(f.opened).toEqual(['https://crm.example/#/quotes/q1']);
  });
});
