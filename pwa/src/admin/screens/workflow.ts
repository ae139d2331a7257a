// #/workflow: the workflow definitions (HQ). #/workflow/<key>[/<version>] draws one as a diagram —
// for each rule, its stages left to right (top to bottom on a phone), the parallel steps of a stage
// side by side, each step with its deciders, quorum, SLA and warning — and edits its JSON: the
// diagram follows the text as it is typed, and a problem the server finds is shown on the step
// (or rule) it concerns. Each save is a new version (running instances keep theirs); older versions
// can be opened. (The API lists instances per subject only, so no count per version is shown.)
import type { App } from '../../app';
import { formatDateTime, formatNumber } from '../../i18n';
import { clear, h, select } from '../../ui/dom';
import type { Screen } from '../../ui/shell';
import { adminHref } from '../href';
import { ax } from '../i18n';
import { dataTable, fetchAll, message, notAllowed, problemField, problemText, roleName } from './common';

interface Definition {
  key: string;
  version: number;
  subject: string;
  type: string;
  body: Body;
  source: string;
  createdAt: string;
  createdByName: string;
}

interface StepSpec {
  deciders?: string;
  quorum?: 'all' | 'any' | { n: number };
  sla_hours?: number | null;
  warn_before_hours?: number | null;
  label?: string;
}

interface Body {
  key?: string;
  subject?: string;
  type?: string;
  description?: string;
  rules?: { when?: Record<string, unknown>; chain?: string[][] }[];
  steps?: Record<string, StepSpec>;
}

/** Where a problem's field points: a step ("steps.manager.quorum"), a rule's stage ("rules[1].chain[0]") or the document. */
export function locate(field: string): { step?: string; rule?: number; stage?: number } {
  const step = /^steps\.([^.]+)/.exec(field);
  if (step) return { step: step[1] };
  const rule = /^rules\[(\d+)\](?:\.chain\[(\d+)\])?/.exec(field);
  if (rule) return { rule: Number(rule[1]), stage: rule[2] === undefined ? undefined : Number(rule[2]) };
  return {};
}

function decidersText(kind: string | undefined): string {
  if (!kind) return '—';
  if (kind.startsWith('hq:')) return ax('wf.deciders.hq', { role: roleName(kind.slice(3)) });
  const known: Record<string, string> = { owner: ax('wf.deciders.owner'), owner_manager: ax('wf.deciders.owner_manager'), province_director: ax('wf.deciders.province_director') };
  return known[kind] ?? kind;
}

function quorumText(q: StepSpec['quorum']): string {
  if (q === 'all') return ax('wf.quorum.all');
  if (q && typeof q === 'object') return ax('wf.quorum.n', { n: q.n });
  return ax('wf.quorum.any');
}

function whenText(when: Record<string, unknown> | undefined): string {
  const parts = Object.entries(when ?? {}).map(([fact, cond]) => {
    if (cond && typeof cond === 'object' && !Array.isArray(cond)) {
      const ops: Record<string, string> = { eq: '=', ne: '≠', lt: '<', lte: '≤', gt: '>', gte: '≥', in: '∈', nin: '∉' };
      return Object.entries(cond as Record<string, unknown>)
        .map(([op, v]) => `${fact} ${ops[op] ?? op} ${typeof v === 'number' ? formatNumber(v) : JSON.stringify(v)}`)
        .join(', ');
    }
    return `${fact} = ${JSON.stringify(cond)}`;
  });
  return parts.length ? ax('wf.when', { cond: parts.join(' · ') }) : ax('wf.otherwise');
}

/** The diagram of a definition body; `problem` marks the step or stage a server message is about. */
export function diagram(body: Body, problem?: { field: string; text: string }): HTMLElement {
  const at = problem ? locate(problem.field) : {};
  const steps = body.steps ?? {};
  const rules = body.rules ?? [];
  const stepBox = (name: string) => {
    const spec = steps[name];
    const wrong = at.step === name;
    return h(
      'div',
      { class: wrong ? 'wf-step wf-step-error' : 'wf-step', testid: 'wf-step', 'data-name': name, 'aria-invalid': wrong ? 'true' : undefined },
      h('strong', { class: 'wf-step-label' }, spec?.label || name),
      spec
        ? h(
            'dl',
            { class: 'wf-facts' },
            h('dt', null, ax('wf.deciders')),
            h('dd', { testid: 'wf-step-deciders' }, decidersText(spec.deciders)),
            h('dt', null, ax('wf.quorum')),
            h('dd', { testid: 'wf-step-quorum' }, quorumText(spec.quorum)),
            h('dt', null, ax('wf.sla')),
            h('dd', { testid: 'wf-step-sla' }, spec.sla_hours ? ax('wf.hours', { n: spec.sla_hours }) : ax('wf.noSla')),
            h('dt', null, ax('wf.warn')),
            h('dd', { testid: 'wf-step-warn' }, spec.warn_before_hours ? ax('wf.hoursBefore', { n: spec.warn_before_hours }) : '—'),
          )
        : h('p', { class: 'field-error' }, ax('wf.undefinedStep', { name })),
      wrong && problem ? h('p', { class: 'field-error', testid: 'wf-step-error', role: 'alert' }, problem.text) : null,
    );
  };
  return h(
    'div',
    { class: 'wf-diagram', testid: 'wf-diagram' },
    rules.map((rule, i) => {
      const chain = rule.chain ?? [];
      const ruleWrong = at.rule === i;
      return h(
        'section',
        { class: ruleWrong ? 'wf-rule wf-rule-error' : 'wf-rule', testid: 'wf-rule', 'data-index': String(i), 'aria-label': whenText(rule.when) },
        h('p', { class: 'wf-when' }, whenText(rule.when)),
        ruleWrong && problem && at.stage === undefined ? h('p', { class: 'field-error', testid: 'wf-rule-error', role: 'alert' }, problem.text) : null,
        chain.length
          ? h(
              'ol',
              { class: 'wf-chain' },
              chain.map((stage, j) =>
                h(
                  'li',
                  { class: ruleWrong && at.stage === j ? 'wf-stage wf-stage-error' : 'wf-stage', testid: 'wf-stage', 'data-steps': String(stage.length), 'aria-label': ax('wf.stage', { n: j + 1 }) },
                  h('span', { class: 'wf-stage-n muted small' }, stage.length > 1 ? ax('wf.stageParallel', { n: j + 1 }) : ax('wf.stage', { n: j + 1 })),
                  h('div', { class: 'wf-parallel' }, stage.map(stepBox)),
                  ruleWrong && at.stage === j && problem ? h('p', { class: 'field-error', testid: 'wf-stage-error', role: 'alert' }, problem.text) : null,
                ),
              ),
            )
          : h('p', { class: 'wf-auto', testid: 'wf-auto' }, ax('wf.auto')),
      );
    }),
    // A step named in no chain is still part of the document (and may be what a problem is about).
    Object.keys(steps)
      .filter((name) => !rules.some((r) => (r.chain ?? []).some((s) => s.includes(name))))
      .map((name) => h('div', { class: 'wf-unused' }, h('p', { class: 'muted small' }, ax('wf.unused')), stepBox(name))),
    problem && !at.step && at.rule === undefined ? h('p', { class: 'field-error', testid: 'wf-doc-error', role: 'alert' }, problem.text) : null,
  );
}

async function listScreen(app: App): Promise<Screen> {
  const status = message('wf-message');
  const r = await fetchAll<Definition>(app, '/api/workflow-definitions');
  if (!r.ok) status.set(r.message);
  const items = r.ok ? r.items : [];
  return {
    el: h(
      'div',
      { testid: 'wf-screen' },
      status.el,
      dataTable(
        ax('wf.title'),
        'wf-table',
        [ax('wf.key'), ax('wf.subject'), ax('wf.type'), ax('wf.version'), ax('wf.savedBy')],
        items.map((d) =>
          h(
            'tr',
            { testid: 'wf-row', 'data-key': d.key },
            h('td', null, h('a', { href: adminHref.workflow(d.key), testid: 'wf-open', class: 'row-link' }, d.key)),
            h('td', null, d.subject),
            h('td', null, d.type === 'work_order' ? ax('wf.workOrder') : ax('wf.approval')),
            h('td', { class: 'num' }, `v${d.version}`),
            h('td', null, `${d.createdByName || d.source} · ${formatDateTime(d.createdAt)}`),
          ),
        ),
        [3],
      ),
    ),
    title: ax('wf.title'),
    back: '#/admin',
  };
}

async function definitionScreen(app: App, key: string, version?: number): Promise<Screen> {
  const status = message('wf-message');
  const latest = await app.api.get<Definition>(`/api/workflow-definitions/${encodeURIComponent(key)}`);
  if (!latest.ok) {
    status.set(problemText(latest));
    return { el: h('div', { testid: 'wf-definition' }, status.el), title: key, back: adminHref.workflow() };
  }
  let shown = latest.data;
  if (version && version !== latest.data.version) {
    const r = await app.api.get<Definition>(`/api/workflow-definitions/${encodeURIComponent(key)}?version=${version}`);
    if (r.ok) shown = r.data;
    else status.set(problemText(r));
  }

  const versions = Array.from({ length: latest.data.version }, (_, i) => latest.data.version - i);
  const picker = select(
    { testid: 'wf-version', id: 'wf-version' },
    versions.map((v) => [String(v), `v${v}${v === latest.data.version ? ` · ${ax('wf.newest')}` : ''}`] as const),
    String(shown.version),
  );
  picker.addEventListener('change', () => {
    location.hash = adminHref.workflow(key, Number(picker.value));
  });

  const diagramBox = h('div', { class: 'admin-col' });
  const editor = h('textarea', { class: 'wf-json', testid: 'wf-json', rows: 24, spellcheck: 'false', id: 'wf-json' });
  editor.value = JSON.stringify(shown.body, null, 2);
  const syntax = h('p', { class: 'field-error', testid: 'wf-json-error', hidden: true, role: 'alert' });
  const save = h('button', { type: 'button', class: 'btn btn-primary', testid: 'wf-save' }, ax('wf.save'));

  const parse = (): Body | null => {
    try {
      const body = JSON.parse(editor.value) as Body;
      syntax.hidden = true;
      return body;
    } catch (error) {
      syntax.textContent = ax('wf.badJson', { detail: String((error as Error).message) });
      syntax.hidden = false;
      return null;
    }
  };
  const draw = (problem?: { field: string; text: string }) => {
    const body = parse();
    if (body) clear(diagramBox, diagram(body, problem));
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  editor.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => draw(), 300);
  });
  save.addEventListener('click', async () => {
    // The diagram is drawn from this text now: a redraw still waiting from the last keystroke would wipe the problem's mark.
    clearTimeout(timer);
    const body = parse();
    if (!body) return;
    save.disabled = true;
    const r = await app.api.send<Definition>('PUT', `/api/workflow-definitions/${encodeURIComponent(key)}`, body);
    save.disabled = false;
    if (!r.ok) {
      const text = problemText(r);
      draw({ field: problemField(r), text });
      status.set(text);
      return;
    }
    status.set(ax('wf.saved', { n: r.data.version }), 'ok');
    location.hash = adminHref.workflow(key, r.data.version);
  });
  draw();

  const head = h(
    'div',
    { class: 'wf-head' },
    shown.body.description ? h('p', { testid: 'wf-description' }, shown.body.description) : null,
    h('p', { class: 'muted small', testid: 'wf-meta' }, `${shown.subject} · ${shown.type === 'work_order' ? ax('wf.workOrder') : ax('wf.approval')} · v${shown.version} · ${shown.createdByName || shown.source} · ${formatDateTime(shown.createdAt)}`),
    h('div', { class: 'field' }, h('label', { for: 'wf-version' }, ax('wf.versions')), picker),
  );
  return {
    el: h(
      'div',
      { testid: 'wf-definition', 'data-key': key, 'data-version': String(shown.version) },
      head,
      status.el,
      h(
        'div',
        { class: 'admin-two' },
        diagramBox,
        h('div', { class: 'admin-col' }, h('label', { for: 'wf-json', class: 'section-title' }, ax('wf.edit')), editor, syntax, h('p', { class: 'muted small' }, ax('wf.editHint')), save),
      ),
    ),
    title: key,
    back: adminHref.workflow(),
    destroy: () => clearTimeout(timer),
  };
}

export async function workflowScreen(app: App, parts: string[]): Promise<Screen> {
  if (!app.can('workflow.definitions')) return notAllowed(ax('wf.title'));
  const [, key, version] = parts;
  return key ? definitionScreen(app, key, version && /^\d+$/.test(version) ? Number(version) : undefined) : listScreen(app);
}
