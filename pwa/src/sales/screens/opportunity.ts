// An opportunity: create or edit on the device (opportunity.create / opportunity.update with the
// server version the edit was made on). When the server kept its own stage, amount or close date
// (someone changed it meanwhile), the screen shows both values and lets the person pick one.
import type { App } from '../../app';
import { fieldDayFeed, type RejectedMutation } from '../../db/db';
import { formatDate, t } from '../../i18n';
import { uuid } from '../../lib/uuid';
import { clear, h } from '../../ui/dom';
import { diff } from '../../lib/validate';
import type { Screen } from '../../ui/shell';
import { conflictView, keepYours } from '../conflict';
import { salesHref } from '../href';
import { s, type SalesKey } from '../i18n';
import { yuanInput } from '../money';
import { fetchOpportunity, fetchProducts, fetchStages, loadProducts, loadStages, waiting } from '../store';
import type { LocalOpportunity, Opportunity, OpportunityChanges, Stage } from '../types';
import { validateOpportunity } from '../validate';
import { accountPicker, card, formatMoney, labelled, pendingBadge, savedText, stageName } from './bits';

const FIELD_KEYS: Record<string, SalesKey> = {
  stage: 'opp.stage',
  amountCents: 'opp.amount',
  expectedClose: 'opp.close',
  name: 'opp.name',
};

/** The conflict panel's words for a field and a value. */
export function conflictFormat(stages: readonly Stage[]) {
  return {
    label: (field: string) => (FIELD_KEYS[field] ? s(FIELD_KEYS[field]) : field),
    value: (field: string, value: unknown) => {
      if (value === null || value === undefined || value === '') return '—';
      if (field === 'amountCents' && typeof value === 'number') return formatMoney(value);
      if (field === 'stage') return stageName(stages, String(value));
      if (field === 'expectedClose') return formatDate(String(value));
      return String(value);
    },
  };
}

export async function opportunityScreen(app: App, parts: string[]): Promise<Screen> {
  const isNew = parts[1] === 'new';
  const id = isNew ? uuid() : (parts[1] ?? '');
  let row: LocalOpportunity | undefined = isNew ? undefined : await app.db.get('opportunities', id);
  if (!isNew && !row && navigator.onLine) {
    await fetchOpportunity(app, id);
    row = await app.db.get('opportunities', id);
  }
  let stages = await loadStages(app.db);
  if (!stages.length) stages = (await fetchStages(app)) ?? [];
  let products = await loadProducts(app.db);
  if (!products.length) products = (await fetchProducts(app)) ?? [];
  if (!isNew && !row) {
    return { el: h('p', { class: 'empty', testid: 'opp-not-found' }, s('opp.notFound')), title: s('opp.title'), back: salesHref.pipeline() };
  }

  const picker = isNew ? await accountPicker(app, 'opp-account', parts[2]) : null;
  const name = labelled('opp-name', s('opp.name'), h('input', { type: 'text', maxlength: 200, value: row?.name ?? '' }));
  const stage = labelled(
    'opp-stage',
    s('opp.stage'),
    h('select', null, stages.map((st) => h('option', { value: st.key, selected: st.key === (row?.stage ?? stages[0]?.key) }, `${stageName(stages, st.key)} · ${st.probability}%`))),
  );
  const amount = labelled('opp-amount', s('opp.amountYuan'), h('input', { type: 'text', inputmode: 'decimal', value: row ? yuanInput(row.amountCents) : '', placeholder: '0' }));
  const close = labelled('opp-close', s('opp.close'), h('input', { type: 'date', value: row?.expectedClose ?? '' }));
  const chosen = new Set(row?.productIds ?? []);
  const productBox = h(
    'div',
    { class: 'opp-products', testid: 'opp-products' },
    products.map((p) =>
      h(
        'label',
        { class: 'check' },
        h('input', {
          type: 'checkbox',
          value: p.id,
          checked: chosen.has(p.id),
          testid: 'opp-product',
          onchange: (e: Event) => {
            const box = e.target as HTMLInputElement;
            if (box.checked) chosen.add(p.id);
            else chosen.delete(p.id);
          },
        }),
        `${p.name}`,
      ),
    ),
  );
  const competitor = labelled('opp-competitor', s('opp.competitor'), h('input', { type: 'text', maxlength: 200, value: row?.competitor ?? '' }));
  const nextStep = labelled('opp-next-step', s('opp.nextStep'), h('textarea', { rows: 2, value: row?.nextStep ?? '' }));
  const lostReason = labelled('opp-lost-reason', s('opp.lostReason'), h('textarea', { rows: 2, value: row?.lostReason ?? '' }));
  const showLost = () => {
    lostReason.row.hidden = stages.find((x) => x.key === stage.input.value)?.kind !== 'lost';
  };
  stage.input.addEventListener('change', showLost);
  showLost();
  const message = h('p', { class: 'form-message', testid: 'opp-form-message', role: 'status', hidden: true });
  const save = h('button', { type: 'submit', class: 'btn btn-primary btn-block', testid: 'opp-save' }, t('form.save'));

  const errorsOf = { account: picker, name, stage, amount, expectedClose: close, competitor, nextStep, lostReason } as const;

  const form = h(
    'form',
    {
      class: 'card form',
      testid: 'opp-form',
      novalidate: true,
      onsubmit: async (event: Event) => {
        event.preventDefault();
        message.hidden = true;
        const { errors, values } = validateOpportunity(
          {
            accountId: picker ? picker.value() : (row?.accountId ?? ''),
            name: name.input.value,
            stage: stage.input.value,
            amount: amount.input.value,
            expectedClose: close.input.value,
            productIds: products.filter((p) => chosen.has(p.id)).map((p) => p.id).concat([...chosen].filter((x) => !products.some((p) => p.id === x))),
            competitor: competitor.input.value,
            nextStep: nextStep.input.value,
            lostReason: lostReason.input.value,
          },
          stages,
        );
        for (const [key, f] of Object.entries(errorsOf)) f?.setError(errors[key]);
        if (!values) return;
        save.disabled = true;
        try {
          if (!row) {
            await app.save({ name: 'opportunity.create', args: { id, ...values } });
          } else {
            const { accountId, ...fields } = values;
            void accountId;
            const before: OpportunityChanges = {
              name: row.name,
              stage: row.stage,
              amountCents: row.amountCents,
              expectedClose: row.expectedClose,
              productIds: row.productIds,
              competitor: row.competitor,
              nextStep: row.nextStep,
              lostReason: row.lostReason,
            };
            const changes = diff(before, fields);
            if (!Object.keys(changes).length) {
              message.textContent = t('form.noChanges');
              message.hidden = false;
              save.disabled = false;
              return;
            }
            // The version the person saw: the server's copy under any changes still queued here.
            const baseVersion = (row._base ?? row).version;
            await app.save({ name: 'opportunity.update', args: { id, baseVersion, changes } });
          }
          app.toast(savedText());
          location.hash = salesHref.opportunity(id);
          if (!isNew) {
            row = await app.db.get('opportunities', id);
            save.disabled = false;
            paintHead();
          }
        } catch (error) {
          message.textContent = t('form.failed', { message: String(error) });
          message.hidden = false;
          save.disabled = false;
        }
      },
    },
    picker?.el,
    name.row,
    stage.row,
    amount.row,
    close.row,
    h('fieldset', { class: 'field' }, h('legend', null, s('opp.products')), productBox),
    competitor.row,
    nextStep.row,
    lostReason.row,
    message,
    save,
  );

  const head = h('div', { class: 'stack' });
  const conflicts = h('div', { class: 'stack', testid: 'opp-conflicts' });

  const paintHead = () => {
    if (!row) return clear(head);
    clear(
      head,
      card(
        'opp-head',
        null,
        h('div', { class: 'row between' }, h('strong', { testid: 'opp-title' }, row.name), row._pending ? pendingBadge('opp-pending') : null),
        h('p', { class: 'muted' }, h('a', { href: `#/a/${encodeURIComponent(row.accountId)}` }, row.accountName), ` · ${row.ownerName}`),
        h(
          'dl',
          { class: 'fields' },
          h('dt', null, s('opp.stage')),
          h('dd', { testid: 'opp-stage-value', 'data-stage': row.stage }, `${stageName(stages, row.stage)} · ${row.probability}%`),
          h('dt', null, s('opp.amount')),
          h('dd', { testid: 'opp-amount-value', 'data-cents': row.amountCents }, formatMoney(row.amountCents)),
          h('dt', null, s('opp.weighted')),
          h('dd', null, formatMoney(row.weightedCents)),
          h('dt', null, s('opp.close')),
          h('dd', null, row.expectedClose ? formatDate(row.expectedClose) : '—'),
        ),
        h('a', { class: 'btn', href: salesHref.quoteNew(row.accountId, row.id), testid: 'opp-quote-link' }, s('quote.new')),
      ),
    );
  };

  const paintConflicts = async () => {
    const records = (await app.db.getAll('rejected')).filter(
      (r) => (r.mutation.name === 'opportunity.update' || r.mutation.name === 'opportunity.create') && r.mutation.args.id === id,
    );
    clear(conflicts, records.map((r) => conflictCard(app, r, stages, () => (row ? { ...row, version: (row._base ?? row).version } : undefined), paintConflicts)));
  };

  paintHead();
  await paintConflicts();
  let alive = true;
  // One made here is read from the device until the server has it (asking the server first is a 404).
  if (!isNew && navigator.onLine && row && row._base !== null && !(await fieldDayFeed(app.db)) && !(await waiting(app.db, `opportunities:${id}`))) {
    void fetchOpportunity(app, id).then(async () => {
      if (!alive) return;
      row = await app.db.get('opportunities', id);
      paintHead();
    });
  }

  return {
    el: h('div', { class: 'stack', testid: 'opp-screen', 'data-id': id }, conflicts, head, form),
    title: isNew ? s('opp.new') : (row?.name ?? s('opp.title')),
    back: isNew && parts[2] ? `#/a/${encodeURIComponent(parts[2])}` : salesHref.pipeline(),
    async refresh() {
      if (!alive || isNew) return;
      row = await app.db.get('opportunities', id);
      paintHead();
      await paintConflicts();
    },
    destroy() {
      alive = false;
    },
  };
}

/** "The server kept its value": yours and the server's side by side, keep one. */
function conflictCard(app: App, record: RejectedMutation, stages: readonly Stage[], current: () => Opportunity | undefined, repaint: () => Promise<void>): HTMLElement {
  const view = conflictView(record, conflictFormat(stages));
  const dismiss = async () => {
    if (record.key !== undefined) await app.db.delete('rejected', record.key);
    await app.engine.refreshCounts();
    await repaint();
  };
  const rows = view?.rows ?? [];
  return h(
    'section',
    { class: 'card sales-conflict', testid: 'opp-conflict', 'data-code': record.code },
    h('h2', { class: 'card-title' }, rows.length ? s('conflict.title') : s('conflict.rejected')),
    h('p', { class: 'small' }, record.message),
    rows.length
      ? h(
          'table',
          { class: 'data-table conflict-table' },
          h('thead', null, h('tr', null, h('th', null, ''), h('th', null, s('conflict.yours')), h('th', null, s('conflict.server')))),
          h(
            'tbody',
            null,
            rows.map((r) => h('tr', { testid: 'conflict-row', 'data-field': r.field }, h('th', null, r.label), h('td', { testid: 'conflict-yours' }, r.yours), h('td', { testid: 'conflict-server' }, r.server))),
          ),
        )
      : null,
    h(
      'div',
      { class: 'row' },
      rows.length
        ? h(
            'button',
            {
              type: 'button',
              class: 'btn btn-primary',
              testid: 'conflict-keep-mine',
              onclick: async () => {
                const now = current();
                const change = now ? keepYours(record, now) : null;
                if (change) await app.save(change);
                await dismiss();
              },
            },
            s('conflict.keepMine'),
          )
        : null,
      h('button', { type: 'button', class: 'btn', testid: 'conflict-keep-server', onclick: () => void dismiss() }, rows.length ? s('conflict.keepServer') : s('dismiss')),
    ),
  );
}
