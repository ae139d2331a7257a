// #/imports (HQ): a CSV of accounts, contacts, holdings or revenue, in UTF-8 or GBK. A dry run first:
// its per-row problems in a table (line, column, message); then apply. Also: run the A/B/C
// segmentation now and see the tiers it set, and override one account's tier with a reason.
import type { App } from '../../app';
import { formatDate, formatNumber } from '../../i18n';
import { clear, h, select } from '../../ui/dom';
import type { Screen } from '../../ui/shell';
import { ax } from '../i18n';
import { money2 } from './catalogue';
import { dataTable, labelled, message, notAllowed, panel, problemText, type Page } from './common';

interface RowError {
  line: number;
  column: string;
  message: string;
}

interface Segmentation {
  ranAt: string;
  windowStart: string;
  windowEnd: string;
  accounts: number;
  totalCents: number;
  aCount: number;
  bCount: number;
  cCount: number;
  aMinCents: number | null;
  bMinCents: number | null;
  changed: number;
}

interface Report {
  kind: string;
  dryRun: boolean;
  applied: boolean;
  rows: number;
  created?: number;
  updated?: number;
  unchanged?: number;
  skipped?: number;
  errors?: RowError[];
  warnings?: RowError[];
  segmentation?: Segmentation | null;
}

interface AccountRow {
  id: string;
  code: string;
  name: string;
  tier: string | null;
  computedTier: string | null;
  tierOverride: string | null;
  tierOverrideReason: string | null;
}

const KINDS = ['accounts', 'contacts', 'holdings', 'revenue'] as const;

function segmentationView(result: Segmentation): HTMLElement {
  return h(
    'dl',
    { class: 'fields', testid: 'seg-result' },
    h('dt', null, ax('seg.window')),
    h('dd', null, `${formatDate(result.windowStart)} – ${formatDate(result.windowEnd)}`),
    h('dt', null, ax('seg.accounts')),
    h('dd', null, formatNumber(result.accounts)),
    h('dt', null, 'A / B / C'),
    h('dd', { testid: 'seg-counts', 'data-a': String(result.aCount), 'data-b': String(result.bCount), 'data-c': String(result.cCount) }, `${formatNumber(result.aCount)} / ${formatNumber(result.bCount)} / ${formatNumber(result.cCount)}`),
    h('dt', null, ax('seg.thresholds')),
    h('dd', null, `A ≥ ${result.aMinCents === null ? '—' : money2(result.aMinCents)} · B ≥ ${result.bMinCents === null ? '—' : money2(result.bMinCents)}`),
    h('dt', null, ax('seg.changed')),
    h('dd', { testid: 'seg-changed', 'data-n': String(result.changed) }, formatNumber(result.changed)),
  );
}

export async function importsScreen(app: App): Promise<Screen> {
  if (!app.can('accounts.import')) return notAllowed(ax('imp.title'));
  const status = message('imp-message');
  const kind = select({ testid: 'imp-kind' }, KINDS.map((k) => [k, ax(`imp.kind.${k}`)] as const), 'accounts');
  const encoding = select({ testid: 'imp-encoding' }, [['auto', ax('imp.enc.auto')], ['utf-8', 'UTF-8'], ['gbk', 'GBK']], 'auto');
  const file = h('input', { type: 'file', accept: '.csv,text/csv', testid: 'imp-file' });
  const skip = h('input', { type: 'checkbox', class: 'check', testid: 'imp-skip-invalid', id: 'imp-skip-invalid' });
  const check = h('button', { type: 'button', class: 'btn btn-primary', testid: 'imp-dry-run' }, ax('imp.dryRun'));
  const apply = h('button', { type: 'button', class: 'btn', testid: 'imp-apply', disabled: true }, ax('imp.apply'));
  const reportBox = h('div', { testid: 'imp-report', 'aria-live': 'polite' });

  const send = async (dryRun: boolean): Promise<void> => {
    const chosen = file.files?.[0];
    if (!chosen) return status.set(ax('imp.noFile'));
    status.set('');
    check.disabled = apply.disabled = true;
    clear(reportBox, h('p', { class: 'muted' }, ax('loading')));
    const params = new URLSearchParams({ kind: kind.value, dryRun: String(dryRun), skipInvalid: String(skip.checked), encoding: encoding.value });
    const body = new Blob([await chosen.arrayBuffer()], { type: 'text/csv' });
    const r = await app.api.send<Report>('POST', `/api/imports?${params}`, body);
    check.disabled = false;
    // 422 carries the report when rows fail and nothing was applied.
    const report: Report | null = r.ok ? r.data : ((r.problem as unknown as { report?: Report } | null)?.report ?? null);
    if (!report) {
      clear(reportBox);
      return status.set(problemText(r));
    }
    showReport(report);
    const errors = report.errors?.length ?? 0;
    apply.disabled = !(report.dryRun && (errors === 0 || skip.checked));
    if (report.applied) status.set(ax('imp.applied', { n: report.rows - (report.skipped ?? 0) }), 'ok');
  };

  function showReport(report: Report): void {
    const errors = report.errors ?? [];
    const warnings = report.warnings ?? [];
    const rows = (list: RowError[], test: string) =>
      list.map((e) => h('tr', { testid: test, 'data-line': String(e.line) }, h('td', { class: 'num' }, String(e.line)), h('td', null, e.column || '—'), h('td', null, e.message)));
    clear(
      reportBox,
      h(
        'p',
        { testid: 'imp-summary', 'data-rows': String(report.rows), 'data-errors': String(errors.length), 'data-applied': String(report.applied) },
        report.applied ? ax('imp.summaryApplied', { rows: report.rows, created: report.created ?? 0, updated: report.updated ?? 0, unchanged: report.unchanged ?? 0, skipped: report.skipped ?? 0 }) : ax('imp.summaryDry', { rows: report.rows, created: report.created ?? 0, updated: report.updated ?? 0, unchanged: report.unchanged ?? 0, errors: errors.length }),
      ),
      errors.length ? dataTable(ax('imp.errors'), 'imp-errors', [ax('imp.line'), ax('imp.column'), ax('imp.problem')], rows(errors, 'imp-error'), [0]) : null,
      warnings.length ? dataTable(ax('imp.warnings'), 'imp-warnings', [ax('imp.line'), ax('imp.column'), ax('imp.problem')], rows(warnings, 'imp-warning'), [0]) : null,
      report.segmentation ? h('div', null, h('h3', { class: 'section-title' }, ax('seg.title')), segmentationView(report.segmentation)) : null,
    );
  }

  check.addEventListener('click', () => void send(true));
  apply.addEventListener('click', () => void send(false));
  file.addEventListener('change', () => {
    apply.disabled = true;
    clear(reportBox);
  });

  // segmentation
  const segBox = h('div', { testid: 'seg-box' });
  const segRun = h('button', { type: 'button', class: 'btn', testid: 'seg-run' }, ax('seg.run'));
  segRun.addEventListener('click', async () => {
    segRun.disabled = true;
    const r = await app.api.post<Segmentation>('/api/segmentation');
    segRun.disabled = false;
    if (!r.ok) return status.set(problemText(r));
    clear(segBox, segmentationView(r.data));
  });

  // tier override
  const search = h('input', { type: 'search', testid: 'tier-search', placeholder: ax('tier.searchHint') });
  const found = h('div', { testid: 'tier-found' });
  const tier = select({ testid: 'tier-value' }, [['A', 'A'], ['B', 'B'], ['C', 'C'], ['', ax('tier.computed')]], 'A');
  const reason = h('input', { type: 'text', testid: 'tier-reason', id: 'tier-reason', maxlength: 500 });
  const reasonError = h('p', { class: 'field-error', testid: 'tier-reason-error', hidden: true });
  let account: AccountRow | null = null;
  const tierSave = h('button', { type: 'button', class: 'btn btn-primary', testid: 'tier-save', disabled: true }, ax('tier.save'));
  const showAccount = () => {
    tierSave.disabled = !account;
    if (account)
      clear(found, h('p', { testid: 'tier-account', 'data-id': account.id }, `${account.code} · ${account.name} — ${ax('tier.now', { tier: account.tier ?? '—', computed: account.computedTier ?? '—' })}${account.tierOverrideReason ? ` (${account.tierOverrideReason})` : ''}`));
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = search.value.trim();
      if (!q) return clear(found);
      const r = await app.api.get<Page<AccountRow>>(`/api/accounts?q=${encodeURIComponent(q)}&limit=8`);
      if (!r.ok) return status.set(problemText(r));
      account = null;
      showAccount();
      clear(
        found,
        r.data.items.length
          ? h(
              'ul',
              { class: 'plain-list' },
              r.data.items.map((a) =>
                h(
                  'li',
                  null,
                  h(
                    'button',
                    {
                      type: 'button',
                      class: 'link-btn row-link',
                      testid: 'tier-pick',
                      'data-code': a.code,
                      onclick: () => {
                        account = a;
                        showAccount();
                      },
                    },
                    `${a.code} · ${a.name} (${a.tier ?? '—'})`,
                  ),
                ),
              ),
            )
          : h('p', { class: 'muted' }, ax('tier.noMatch')),
      );
    }, 250);
  });
  tierSave.addEventListener('click', async () => {
    if (!account) return;
    reasonError.hidden = true;
    if (tier.value && !reason.value.trim()) {
      reasonError.textContent = ax('tier.reasonRequired');
      reasonError.hidden = false;
      return;
    }
    const r = await app.api.post<AccountRow>(`/api/accounts/${account.id}/tier`, { tier: tier.value || null, reason: reason.value.trim() });
    if (!r.ok) return status.set(problemText(r));
    account = r.data;
    showAccount();
    status.set(ax('tier.saved', { name: r.data.name, tier: r.data.tier ?? '—' }), 'ok');
  });

  return {
    el: h(
      'div',
      { testid: 'imp-screen' },
      status.el,
      h(
        'div',
        { class: 'admin-two' },
        h(
          'div',
          { class: 'admin-col' },
          panel(
            ax('imp.upload'),
            'imp-upload',
            labelled('imp-kind', ax('imp.kind'), kind),
            labelled('imp-encoding', ax('imp.encoding'), encoding),
            labelled('imp-file', ax('imp.file'), file, ax('imp.fileHint')),
            h('label', { class: 'check-row', for: 'imp-skip-invalid' }, skip, ax('imp.skipInvalid')),
            h('div', { class: 'row' }, check, apply),
          ),
          reportBox,
        ),
        h(
          'div',
          { class: 'admin-col' },
          panel(ax('seg.title'), 'seg-panel', h('p', { class: 'muted small' }, ax('seg.intro')), segRun, segBox),
          panel(
            ax('tier.title'),
            'tier-panel',
            labelled('tier-search', ax('tier.account'), search),
            found,
            labelled('tier-value', ax('tier.tier'), tier),
            h('div', { class: 'field' }, h('label', { for: 'tier-reason' }, ax('tier.reason')), reason, reasonError),
            tierSave,
          ),
        ),
      ),
    ),
    title: ax('imp.title'),
    back: '#/admin',
    destroy: () => clearTimeout(timer),
  };
}
