// The pipeline: stages with counts, amounts and weighted amounts, and the opportunities below, read
// from the device. With the opportunities in the sync feed the figures are worked out here (so one
// made offline counts at once); from an older server they are its figures, kept for offline
// reading. Leaders switch between their own and their team's (everything under them).
import type { App } from '../../app';
import { formatAgo, formatDate } from '../../i18n';
import { clear, h } from '../../ui/dom';
import type { Screen } from '../../ui/shell';
import { salesHref } from '../href';
import { s } from '../i18n';
import { fieldDayFeed } from '../../db/db';
import { cached, fetchOpportunities, fetchPipeline, fetchStages, loadOpportunities, loadStages, pipelineFromRows, pipelineKey } from '../store';
import type { LocalOpportunity, Pipeline, Stage } from '../types';
import { card, formatMoney, pendingBadge, stageName } from './bits';

export function isLeader(app: App): boolean {
  return app.can('visits.review');
}

export async function pipelineScreen(app: App, parts: string[]): Promise<Screen> {
  const leader = isLeader(app);
  const scope: 'mine' | 'team' = leader && parts[1] === 'team' ? 'team' : 'mine';
  const me = app.me?.user.id ?? '';
  let stageFilter = '';
  let stages: Stage[] = await loadStages(app.db);
  let pipeline: { at: string; data: Pipeline } | null = await cached<Pipeline>(app.db, pipelineKey(scope));
  let rows: LocalOpportunity[] = [];

  const summary = h('div', { testid: 'pipe-summary' });
  const stageList = h('ul', { class: 'plain-list', testid: 'pipe-stages' });
  const list = h('ul', { class: 'plain-list', testid: 'opp-list' });
  const asOf = h('p', { class: 'muted small', testid: 'pipe-as-of' });

  const feed = await fieldDayFeed(app.db);
  const read = async () => {
    rows = await loadOpportunities(app.db, { ownerId: scope === 'mine' ? me : undefined });
    if (feed && stages.length) pipeline = { at: new Date().toISOString(), data: pipelineFromRows(rows, stages) };
  };

  const paint = () => {
    const p = pipeline?.data;
    clear(
      summary,
      p
        ? h(
            'dl',
            { class: 'fields' },
            h('dt', null, s('pipe.open')),
            h('dd', { testid: 'pipe-open-count', 'data-count': p.openCount }, String(p.openCount)),
            h('dt', null, s('pipe.amount')),
            h('dd', { testid: 'pipe-open-amount', 'data-cents': p.openAmountCents }, formatMoney(p.openAmountCents)),
            h('dt', null, s('pipe.weighted')),
            h('dd', { testid: 'pipe-open-weighted' }, formatMoney(p.openWeightedCents)),
          )
        : h('p', { class: 'muted' }, navigator.onLine ? s('loading') : s('pipe.noCopy')),
    );
    asOf.textContent = pipeline ? s('asOf', { time: formatAgo(pipeline.at) }) : '';
    clear(
      stageList,
      (p?.stages ?? []).map((st) =>
        h(
          'li',
          null,
          h(
            'button',
            {
              type: 'button',
              class: stageFilter === st.stage ? 'pipe-stage pipe-stage-on' : 'pipe-stage',
              testid: 'pipe-stage',
              'data-stage': st.stage,
              'data-count': st.count,
              'aria-pressed': String(stageFilter === st.stage),
              onclick: () => {
                stageFilter = stageFilter === st.stage ? '' : st.stage;
                paint();
              },
            },
            h('span', { class: 'pipe-stage-name' }, stageName(stages, st.stage) || st.name),
            h('span', { class: 'pipe-stage-count' }, String(st.count)),
            h('span', { class: 'pipe-stage-amount' }, formatMoney(st.amountCents, true)),
            h('span', { class: 'muted small pipe-stage-weighted' }, s('pipe.weightedShort', { amount: formatMoney(st.weightedCents, true) })),
          ),
        ),
      ),
    );
    const shown = rows.filter((r) => !stageFilter || r.stage === stageFilter);
    clear(
      list,
      shown.length
        ? shown.map((o) =>
            h(
              'li',
              { class: 'opp-row', testid: 'opp-item', 'data-id': o.id, 'data-stage': o.stage },
              h(
                'a',
                { class: 'opp-link', href: salesHref.opportunity(o.id) },
                h('span', { class: 'opp-name' }, o.name, o._pending ? pendingBadge('opp-pending') : null),
                h('span', { class: 'muted small' }, `${o.accountName} · ${stageName(stages, o.stage)}${o.expectedClose ? ` · ${formatDate(o.expectedClose)}` : ''}${scope === 'team' ? ` · ${o.ownerName}` : ''}`),
                h('span', { class: 'opp-amount' }, formatMoney(o.amountCents)),
              ),
            ),
          )
        : h('li', { class: 'empty', testid: 'opp-empty' }, s('opp.none')),
    );
  };

  await read();
  paint();

  let alive = true;
  const reload = async () => {
    await read();
    if (alive) paint();
  };
  if (navigator.onLine && feed) {
    void fetchStages(app).then(async (st) => {
      if (st) stages = st;
      if (alive) await reload();
    });
  } else if (navigator.onLine) {
    void (async () => {
      const [st, p] = await Promise.all([fetchStages(app), fetchPipeline(app, scope)]);
      if (st) stages = st;
      if (p) pipeline = { at: new Date().toISOString(), data: p };
      await fetchOpportunities(app, { ownerId: scope === 'mine' ? me : undefined });
      if (alive) await reload();
    })();
  }

  const seg = leader
    ? h(
        'div',
        { class: 'seg', role: 'group' },
        h('a', { class: scope === 'mine' ? 'seg-btn seg-on' : 'seg-btn', href: salesHref.pipeline(), testid: 'pipe-scope-mine' }, s('pipe.mine')),
        h('a', { class: scope === 'team' ? 'seg-btn seg-on' : 'seg-btn', href: salesHref.pipeline('team'), testid: 'pipe-scope-team' }, s('pipe.team')),
      )
    : null;

  return {
    el: h(
      'div',
      { class: 'stack', testid: 'pipeline-screen', 'data-scope': scope },
      seg,
      card('pipe-card', s('pipe.title'), summary, stageList, asOf),
      h('div', { class: 'row between' }, h('h2', { class: 'section-title' }, s('opp.list')), h('a', { class: 'btn btn-primary', href: salesHref.opportunityNew(), testid: 'opp-new-link' }, s('opp.new'))),
      list,
    ),
    title: s('pipe.title'),
    back: salesHref.hub(),
    refresh: reload,
    destroy() {
      alive = false;
    },
  };
}
