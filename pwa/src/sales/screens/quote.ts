// The quote builder (phone-first): products from the catalogue, quantity, unit price, discount,
// live totals computed the server's way in integer cents (a preview; the server's figures show once
// it has the quote), validity; saved through the outbox, submitted online. Past draft: the state,
// the actions it allows, the approval history with every decision, and the printable page.
import type { App } from '../../app';
import { fieldDayFeed } from '../../db/db';
import { todayIso } from '../../db/local';
import { formatDate, formatDateTime, getLocale, t } from '../../i18n';
import { uuid } from '../../lib/uuid';
import { clear, h } from '../../ui/dom';
import type { Screen } from '../../ui/shell';
import { addDays } from '../../visits/store';
import { salesHref } from '../href';
import { s, type SalesKey } from '../i18n';
import { quoteAmounts } from '../money';
import { percentText, yuanInput } from '../money';
import { cached, fetchHistory, fetchProducts, fetchQuote, fetchQuoteList, historyKey, loadProducts, loadQuoteList, storeQuotes, waiting } from '../store';
import type { ApprovalRound, Instance, InstancePage, LocalQuote, Product, Quote, QuoteChanges, QuoteLineIn, QuoteState } from '../types';
import { validateQuote, type LineDraft, type ParsedLine } from '../validate';
import { conflictView } from '../conflict';
import { accountPicker, card, labelled, money, offlineNote, pendingBadge, percent, problemText, quoteStateBadge, savedText } from './bits';
import { isLeader } from './pipeline';

/** What a quote in each state can do next (besides approvals, which happen in the approvers' inbox). */
export const NEXT_ACTIONS: Record<QuoteState, ('withdraw' | 'reopen' | 'send' | 'accept' | 'revise')[]> = {
  draft: [],
  submitted: ['withdraw'],
  approved: ['send', 'revise'],
  rejected: ['revise'],
  returned: ['reopen'],
  sent: ['accept', 'revise'],
  accepted: [],
  expired: ['revise'],
};

export function draftLines(q: Pick<Quote, 'lines'>): LineDraft[] {
  return q.lines.map((l) => ({
    productId: l.productId ?? '',
    quantity: String(l.quantity),
    unitPrice: l.unitPriceCents === l.listPriceCents ? '' : yuanInput(l.unitPriceCents),
    discount: l.discountBp ? percentText(l.discountBp) : '',
  }));
}

function sameLines(a: readonly QuoteLineIn[], b: readonly QuoteLineIn[]): boolean {
  const norm = (l: QuoteLineIn) => [l.productId, l.quantity, l.unitPriceCents ?? null, l.discountBp];
  return JSON.stringify(a.map(norm)) === JSON.stringify(b.map(norm));
}

function linesIn(q: Quote): QuoteLineIn[] {
  return q.lines.map((l) => {
    const line: QuoteLineIn = { productId: l.productId ?? '', quantity: l.quantity, discountBp: l.discountBp };
    if (l.unitPriceCents !== l.listPriceCents) line.unitPriceCents = l.unitPriceCents;
    return line;
  });
}

export async function quoteListScreen(app: App): Promise<Screen> {
  const me = app.me?.user.id ?? '';
  const leader = isLeader(app);
  const scope = leader ? 'all' : 'mine';
  const list = h('ul', { class: 'plain-list', testid: 'quote-list' });
  const paint = async () => {
    const rows = await loadQuoteList(app.db, scope, (q) => leader || q.ownerId === me);
    clear(
      list,
      rows.length
        ? rows.map((q) =>
            h(
              'li',
              { class: 'opp-row', testid: 'quote-item', 'data-id': q.id, 'data-state': q.state },
              h(
                'a',
                { class: 'opp-link', href: salesHref.quote(q.id) },
                h('span', { class: 'opp-name' }, q.number ? `${q.number}${q.revision > 1 ? ` r${q.revision}` : ''}` : s('quote.unnumbered'), ' ', quoteStateBadge(q.state), q._pending ? pendingBadge('quote-pending') : null),
                h('span', { class: 'muted small' }, [q.accountName, q.title].filter(Boolean).join(' · ')),
                h('span', { class: 'opp-amount' }, money(q.totalCents)),
              ),
            ),
          )
        : h('li', { class: 'empty', testid: 'quote-empty' }, s('quote.none')),
    );
  };
  await paint();
  let alive = true;
  if (navigator.onLine && !(await fieldDayFeed(app.db))) {
    void fetchQuoteList(app, scope, { ownerId: leader ? undefined : me }).then(async () => {
      if (alive) await paint();
    });
  }
  return {
    el: h('div', { class: 'stack', testid: 'quotes-screen' }, h('a', { class: 'btn btn-primary btn-block', href: salesHref.quoteNew(), testid: 'quote-new-link' }, s('quote.new')), list),
    title: s('quote.list'),
    back: salesHref.hub(),
    refresh: paint,
    destroy() {
      alive = false;
    },
  };
}

export async function quoteScreen(app: App, parts: string[]): Promise<Screen> {
  const isNew = parts[1] === 'new';
  const id = isNew ? uuid() : (parts[1] ?? '');
  let row: LocalQuote | undefined = isNew ? undefined : await app.db.get('quotes', id);
  // The device's copy first: the pull keeps it current; the server is asked only for one not here.
  const feed = await fieldDayFeed(app.db);
  if (!isNew && navigator.onLine && (!row || (!row._pending && !feed))) {
    await fetchQuote(app, id);
    row = await app.db.get('quotes', id);
  }
  if (!isNew && !row) {
    return { el: h('p', { class: 'empty', testid: 'quote-not-found' }, s('quote.notFound')), title: s('quote.title'), back: salesHref.quotes() };
  }
  let products = await loadProducts(app.db);
  if (navigator.onLine) products = (await fetchProducts(app)) ?? products;
  const byId = new Map(products.map((p) => [p.id, p]));
  const opportunityId = isNew ? (parts[3] ?? null) : (row?.opportunityId ?? null);

  const head = h('div', { class: 'stack' });
  const body = h('div', { class: 'stack' });
  const historyBox = h('div', { class: 'stack', testid: 'quote-history' });
  const notices = h('div', { class: 'stack', testid: 'quote-notices' });
  let alive = true;

  // ------------------------------------------------------------ the builder (a new quote, or a draft)
  const picker = isNew ? await accountPicker(app, 'quote-account', parts[2]) : null;
  let lines: LineDraft[] = row ? draftLines(row) : [];
  const title = labelled('quote-title', s('quote.titleField'), h('input', { type: 'text', maxlength: 200, value: row?.title ?? '' }));
  const validUntil = labelled('quote-valid-until', s('quote.validUntil'), h('input', { type: 'date', value: row ? (row.validUntil ?? '') : addDays(todayIso(), 30) }));
  const notes = labelled('quote-notes', s('quote.notes'), h('textarea', { rows: 2, value: row?.notes ?? '' }));
  const lineList = h('ol', { class: 'plain-list quote-lines', testid: 'quote-lines' });
  const linesError = h('p', { class: 'field-error', testid: 'quote-lines-error', hidden: true });
  const totals = h('div', { class: 'quote-totals', testid: 'quote-totals' });
  const message = h('p', { class: 'form-message', testid: 'quote-form-message', role: 'status', hidden: true });

  const productOptions = (current: string) => {
    const groups = new Map<string, Product[]>();
    for (const p of products) {
      const list = groups.get(p.category || '—') ?? [];
      list.push(p);
      groups.set(p.category || '—', list);
    }
    return [...groups.entries()].map(([category, items]) =>
      h('optgroup', { label: category }, items.map((p) => h('option', { value: p.id, selected: p.id === current }, `${p.name} · ${money(p.listPriceCents)}/${p.unit || '—'}`))),
    );
  };

  const addPicker = h(
    'select',
    {
      testid: 'quote-add-product',
      'aria-label': s('quote.addProduct'),
      onchange: () => {
        if (!addPicker.value) return;
        lines.push({ productId: addPicker.value, quantity: '1', unitPrice: '', discount: '' });
        addPicker.value = '';
        paintLines();
      },
    },
    h('option', { value: '' }, `+ ${s('quote.addProduct')}`),
    productOptions(''),
  );

  /** The last button pressed: from then on the marks follow every keystroke (and go when fixed). */
  let attempted: 'save' | 'submit' | null = null;

  const recompute = () => {
    const { parsed, errors } = validateQuote({ title: title.input.value, validUntil: validUntil.input.value, notes: notes.input.value, lines }, byId, { submitting: attempted === 'submit', today: todayIso() });
    if (attempted) showLinesError(errors);
    const good = parsed.filter((p): p is ParsedLine => !!p);
    const amounts = quoteAmounts(good);
    let k = 0;
    lineList.querySelectorAll<HTMLElement>('[data-testid="quote-line"]').forEach((el, i) => {
      const p = parsed[i];
      const out = el.querySelector<HTMLElement>('[data-testid="line-total"]')!;
      const warn = el.querySelector<HTMLElement>('[data-testid="line-beyond"]')!;
      // Each field says what is wrong with it (a line left out of the totals shows why).
      for (const f of ['product', 'quantity', 'unitPrice', 'discount'] as const) {
        const err = el.querySelector<HTMLElement>(`[data-testid="line-${f}-error"]`);
        if (!err) continue;
        const text = errors[`lines.${i}.${f}`] ?? '';
        err.textContent = text;
        err.hidden = !text;
        el.querySelector(`[data-testid="line-${f}"]`)?.setAttribute('aria-invalid', text ? 'true' : 'false');
      }
      el.classList.toggle('line-bad', !p);
      if (!p) {
        out.textContent = '—';
        out.dataset.cents = '';
        warn.hidden = true;
        return;
      }
      const a = amounts.lines[k++]!;
      out.textContent = money(a.totalCents);
      out.dataset.cents = String(a.totalCents);
      const beyond = !!p.product && a.depthBp > p.product.maxDiscountBp;
      warn.hidden = !beyond;
      warn.textContent = beyond ? s('quote.beyondLimit', { depth: percent(a.depthBp), limit: percent(p.product!.maxDiscountBp) }) : '';
    });
    const bad = parsed.some((p) => !p);
    clear(
      totals,
      h(
        'dl',
        { class: 'fields' },
        h('dt', null, s('quote.listTotal')),
        h('dd', { testid: 'quote-list-total', 'data-cents': amounts.listTotalCents }, money(amounts.listTotalCents)),
        h('dt', null, s('quote.discount')),
        h('dd', { testid: 'quote-discount', 'data-bp': amounts.discountBp }, `${money(amounts.listTotalCents - amounts.totalCents)} · ${percent(amounts.discountBp)}`),
        h('dt', null, s('quote.total')),
        h('dd', { testid: 'quote-total', 'data-cents': amounts.totalCents }, h('strong', null, money(amounts.totalCents))),
      ),
      h('p', { class: 'muted small' }, bad ? s('quote.previewPartial') : s('quote.preview')),
      amounts.discountBp > 500 || good.some((p, i) => p.product && amounts.lines[i]!.depthBp > p.product.maxDiscountBp)
        ? h('p', { class: 'notice', testid: 'quote-needs-approval' }, s('quote.needsApproval'))
        : null,
      row && !row._pending && row.number && !row._stale
        ? h('p', { class: 'small', testid: 'quote-server-total', 'data-cents': row.totalCents, 'data-bp': row.discountBp }, s('quote.serverTotal', { total: money(row.totalCents), depth: percent(row.discountBp) }))
        : row
          ? h('p', { class: 'muted small', testid: 'quote-server-waiting' }, s('quote.serverWaiting'))
          : null,
    );
  };

  const paintLines = () => {
    clear(
      lineList,
      lines.map((line, i) => {
        const product = byId.get(line.productId);
        const productSelect = h('select', { testid: 'line-product', 'aria-label': s('quote.product') }, line.productId && !product ? h('option', { value: line.productId, selected: true }, '—') : null, productOptions(line.productId));
        productSelect.addEventListener('change', () => {
          line.productId = productSelect.value;
          recompute();
        });
        const input = (field: 'quantity' | 'unitPrice' | 'discount', label: SalesKey, mode: string, placeholder: string) => {
          const el = h('input', { type: 'text', inputmode: mode, value: line[field], placeholder, testid: `line-${field}`, 'aria-label': s(label), class: 'line-input' });
          el.addEventListener('input', () => {
            line[field] = el.value;
            recompute();
          });
          return h('label', { class: 'line-field' }, h('span', { class: 'muted small' }, s(label)), el, h('span', { class: 'field-error', testid: `line-${field}-error`, hidden: true }));
        };
        return h(
          'li',
          { class: 'card quote-line', testid: 'quote-line', 'data-product': line.productId },
          productSelect,
          h('span', { class: 'field-error', testid: 'line-product-error', hidden: true }),
          h(
            'div',
            { class: 'line-grid' },
            input('quantity', 'quote.quantity', 'numeric', '1'),
            input('unitPrice', 'quote.unitPrice', 'decimal', product ? yuanInput(product.listPriceCents) : ''),
            input('discount', 'quote.discountPct', 'decimal', '0'),
          ),
          h('p', { class: 'warn small', testid: 'line-beyond', hidden: true }),
          h(
            'div',
            { class: 'row between' },
            h('span', null, s('quote.lineTotal'), ' ', h('strong', { testid: 'line-total' })),
            h(
              'button',
              {
                type: 'button',
                class: 'btn btn-small',
                testid: 'line-remove',
                onclick: () => {
                  lines.splice(i, 1);
                  paintLines();
                },
              },
              s('quote.remove'),
            ),
          ),
        );
      }),
    );
    recompute();
  };

  const showLinesError = (errors: Record<string, string>) => {
    linesError.textContent = errors.lines ?? (Object.keys(errors).some((k) => k.startsWith('lines.')) ? s('quote.fixLines') : '');
    linesError.hidden = !linesError.textContent;
  };

  const collect = (submitting: boolean) => {
    const input = { title: title.input.value, validUntil: validUntil.input.value, notes: notes.input.value, lines };
    const result = validateQuote(input, byId, { submitting, today: todayIso() });
    title.setError(result.errors.title);
    validUntil.setError(result.errors.validUntil);
    notes.setError(result.errors.notes);
    showLinesError(result.errors);
    const accountId = picker ? picker.value() : (row?.accountId ?? '');
    picker?.setError(accountId ? undefined : s('form.required', { field: s('pick.account') }));
    recompute();
    return accountId && result.values ? { accountId, ...result.values } : null;
  };

  /** Queue the draft (create or the changed fields); true when there was something to queue. */
  const saveDraft = async (values: NonNullable<ReturnType<typeof collect>>): Promise<boolean> => {
    if (!row) {
      await app.save({
        name: 'quote.create',
        args: { id, accountId: values.accountId, lines: values.lines, title: values.title, opportunityId, validUntil: values.validUntil, notes: values.notes },
      });
    } else {
      const changes: QuoteChanges = {};
      if (values.title !== row.title) changes.title = values.title;
      if (values.validUntil !== row.validUntil) changes.validUntil = values.validUntil;
      if (values.notes !== row.notes) changes.notes = values.notes;
      if (!sameLines(values.lines, linesIn(row))) changes.lines = values.lines;
      if (!Object.keys(changes).length) return false;
      await app.save({ name: 'quote.update', args: { id, baseVersion: (row._base ?? row).version, changes } });
    }
    row = await app.db.get('quotes', id);
    return true;
  };

  const say = (text: string) => {
    message.textContent = text;
    message.hidden = !text;
  };

  const save = h('button', { type: 'submit', class: 'btn btn-block', testid: 'quote-save' }, s('quote.saveDraft'));
  const submit = h('button', { type: 'button', class: 'btn btn-primary btn-block', testid: 'quote-submit' }, s('quote.submit'));
  const form = h(
    'form',
    {
      class: 'stack',
      testid: 'quote-form',
      novalidate: true,
      onsubmit: async (event: Event) => {
        event.preventDefault();
        say('');
        attempted = 'save';
        const values = collect(false);
        if (!values) return;
        save.disabled = true;
        try {
          const queued = await saveDraft(values);
          say(queued ? savedText() : t('form.noChanges'));
          if (isNew) location.hash = salesHref.quote(id);
          else await repaint();
        } catch (error) {
          say(t('form.failed', { message: String(error) }));
        } finally {
          save.disabled = false;
        }
      },
    },
    picker ? card('quote-account-card', null, picker.el) : null,
    card('quote-lines-card', s('quote.lines'), lineList, linesError, products.length ? addPicker : h('p', { class: 'notice', testid: 'quote-no-catalogue' }, s('quote.noCatalogue'))),
    card('quote-totals-card', s('quote.totals'), totals),
    card('quote-fields', null, title.row, validUntil.row, notes.row),
    message,
    h('div', { class: 'stack' }, save, submit),
  );

  submit.addEventListener('click', async () => {
    say('');
    attempted = 'submit';
    const values = collect(true);
    if (!values) return;
    submit.disabled = save.disabled = true;
    try {
      // The draft goes into the outbox first, whatever the network does next: nothing typed is lost.
      await saveDraft(values);
      const online = navigator.onLine;
      if (online) {
        // The approvers decide on the server's copy: it must have every change made here first.
        for (let i = 0; i < 3 && (await waiting(app.db, `quotes:${id}`)); i++) await app.engine.run();
      }
      const rejected = (await app.db.getAll('rejected')).find((r) => r.mutation.name.startsWith('quote.') && 'id' in r.mutation.args && r.mutation.args.id === id);
      if (rejected && !rejected.applied) {
        say(`${s('quote.rejectedChange')}: ${rejected.message}`);
        return;
      }
      if (!online || (await waiting(app.db, `quotes:${id}`))) {
        // No network (or the draft did not get through): the submit waits in the outbox behind the
        // draft and is applied when it arrives, against the quote's state then.
        await queueSubmit();
        // The form gives way to the submitted quote (marked as waiting): the toast says what happens next.
        app.toast(navigator.onLine ? s('quote.submitQueuedOnline') : s('quote.submitQueued'));
        if (isNew) location.hash = salesHref.quote(id);
        else await repaint();
        return;
      }
      const result = await app.api.post<Quote>(`/api/quotes/${encodeURIComponent(id)}/transitions`, { action: 'submit', comment: '' });
      if (!result.ok) {
        if (result.status === 0) {
          await queueSubmit();
          app.toast(s('quote.submitQueued'));
          if (isNew) location.hash = salesHref.quote(id);
          else await repaint();
          return;
        }
        say(problemText(result));
        return;
      }
      await storeQuotes(app, [result.data]);
      row = await app.db.get('quotes', id);
      app.toast(result.data.state === 'approved' ? s('quote.autoApproved') : s('quote.submitted'));
      if (isNew) location.hash = salesHref.quote(id);
      else await repaint();
    } catch (error) {
      say(t('form.failed', { message: String(error) }));
    } finally {
      submit.disabled = save.disabled = false;
    }
  });

  const queueSubmit = async () => {
    // The version submitted: the server's copy as seen here. With this device's own draft or edits
    // still queued ahead of it the server's version will have moved by them, so none is sent and
    // the server checks the state alone (a quote returned or submitted meanwhile is refused).
    const current = await app.db.get('quotes', id);
    const edits = await waiting(app.db, `quotes:${id}`);
    const baseVersion = current && !edits ? current.version : null;
    await app.save({ name: 'quote.submit', args: { id, baseVersion, comment: '' } });
    row = await app.db.get('quotes', id);
  };

  // ------------------------------------------------------------ past draft: state, lines, actions, history
  const act = async (action: string, button: HTMLButtonElement) => {
    button.disabled = true;
    const result =
      action === 'revise'
        ? await app.api.post<Quote>(`/api/quotes/${encodeURIComponent(id)}/revisions`)
        : await app.api.post<Quote>(`/api/quotes/${encodeURIComponent(id)}/transitions`, { action, comment: '' });
    button.disabled = false;
    if (!result.ok) {
      app.toast(problemText(result));
      return;
    }
    await storeQuotes(app, [result.data]);
    if (action === 'revise') {
      location.hash = salesHref.quote(result.data.id);
      return;
    }
    row = await app.db.get('quotes', id);
    await repaint();
  };

  const readOnlyLines = (q: Quote) =>
    h(
      'ol',
      { class: 'plain-list quote-lines', testid: 'quote-lines' },
      q.lines.map((l) =>
        h(
          'li',
          { class: 'quote-line-ro', testid: 'quote-line' },
          h('strong', null, l.productName),
          h('div', { class: 'muted small' }, `${l.quantity} ${l.unit} × ${money(l.unitPriceCents)}${l.discountBp ? ` − ${percent(l.discountBp)}` : ''}`),
          h('div', { testid: 'line-total', 'data-cents': l.totalCents }, money(l.totalCents)),
        ),
      ),
    );

  /** Edits the server kept as a new revision (the quote had left draft), or refused: say so, link the revision. */
  const paintNotices = async () => {
    const records = (await app.db.getAll('rejected')).filter((r) => (r.mutation.name === 'quote.update' || r.mutation.name === 'quote.create' || r.mutation.name === 'quote.submit') && r.mutation.args.id === id);
    clear(
      notices,
      records.map((r) => {
        const view = conflictView(r, { label: (f) => f, value: (_f, v) => String(v) });
        return h(
          'section',
          { class: 'card sales-conflict', testid: 'quote-notice', 'data-code': r.code },
          h('p', { class: 'small' }, r.message),
          h(
            'div',
            { class: 'row' },
            view?.revisionId ? h('a', { class: 'btn btn-primary', href: salesHref.quote(view.revisionId), testid: 'quote-revision-link' }, s('quote.openRevision')) : null,
            h(
              'button',
              {
                type: 'button',
                class: 'btn',
                testid: 'quote-notice-dismiss',
                onclick: async () => {
                  if (r.key !== undefined) await app.db.delete('rejected', r.key);
                  await app.engine.refreshCounts();
                  await paintNotices();
                },
              },
              s('dismiss'),
            ),
          ),
        );
      }),
    );
  };

  const paintHead = () => {
    if (!row) return clear(head);
    const q = row;
    clear(
      head,
      card(
        'quote-head',
        null,
        h('div', { class: 'row between' }, h('strong', { testid: 'quote-number' }, q.number ? `${q.number}${q.revision > 1 ? ` r${q.revision}` : ''}` : s('quote.unnumbered')), quoteStateBadge(q.state)),
        q._pending ? pendingBadge('quote-pending') : null,
        h('p', null, h('a', { href: `#/a/${encodeURIComponent(q.accountId)}` }, q.accountName), q.title ? ` · ${q.title}` : ''),
        q.stateComment ? h('p', { class: 'notice', testid: 'quote-state-comment' }, q.stateComment) : null,
        q.state !== 'draft'
          ? h(
              'dl',
              { class: 'fields' },
              h('dt', null, s('quote.total')),
              h('dd', { testid: 'quote-server-total', 'data-cents': q.totalCents, 'data-bp': q.discountBp }, `${money(q.totalCents)} · ${percent(q.discountBp)}`),
              h('dt', null, s('quote.validUntil')),
              h('dd', null, q.validUntil ? formatDate(q.validUntil) : '—'),
            )
          : null,
        q.number
          ? h('a', { class: 'btn btn-small', href: salesHref.print(q.id, getLocale()), target: '_blank', rel: 'noopener', testid: 'quote-print' }, s('quote.print'))
          : null,
      ),
    );
  };

  const paintBody = () => {
    if (row && row.state !== 'draft') {
      // Submitted here and not sent yet: nothing else to do with it until the server has it.
      const actions = row._pending ? [] : NEXT_ACTIONS[row.state];
      clear(
        body,
        row._pending && row.state === 'submitted' ? h('p', { class: 'notice', testid: 'quote-submit-pending' }, s('quote.submitPending')) : null,
        card('quote-lines-card', s('quote.lines'), readOnlyLines(row)),
        actions.length
          ? h(
              'div',
              { class: 'row', testid: 'quote-actions' },
              actions.map((a) => {
                const b = h('button', { type: 'button', class: a === 'send' || a === 'accept' ? 'btn btn-primary' : 'btn', testid: `quote-${a}` }, s(`quote.action.${a}` as SalesKey));
                b.addEventListener('click', () => void act(a, b));
                return b;
              }),
            )
          : null,
        offlineNote('quote-actions-offline', 'quote.actionsOffline'),
      );
    } else {
      clear(body, form);
      paintLines();
    }
  };

  const paintHistory = (fetched: InstancePage | null) => {
    // The server's answer when there is one; else the history the pull brought with the quote.
    const page: HistoryPage | null = fetched?.items.length ? fetched : historyFromPull(row);
    if (!page || !page.items.length) return clear(historyBox, row && row.state !== 'draft' ? card('quote-history-card', s('history.title'), h('p', { class: 'muted' }, navigator.onLine ? s('history.none') : s('history.offline'))) : null);
    clear(historyBox, card('quote-history-card', s('history.title'), page.items.map(instanceView)));
  };

  const repaint = async () => {
    paintHead();
    if (!(row && row.state === 'draft' && body.firstChild === form)) paintBody();
    else recompute();
    paintHistory((await cached<InstancePage>(app.db, historyKey('quote', id)))?.data ?? null);
  };

  paintHead();
  paintBody();
  await paintNotices();
  paintHistory((await cached<InstancePage>(app.db, historyKey('quote', id)))?.data ?? null);
  if (!isNew && navigator.onLine) void fetchHistory(app, 'quote', id).then((p) => alive && paintHistory(p));

  return {
    el: h('div', { class: 'stack', testid: 'quote-screen', 'data-id': id }, notices, head, body, historyBox),
    title: isNew ? s('quote.new') : row?.number || s('quote.title'),
    back: salesHref.quotes(),
    async refresh() {
      if (!alive || isNew) return;
      const next = await app.db.get('quotes', id);
      const stateChanged = next?.state !== row?.state;
      row = next;
      if (!row) return;
      if (stateChanged) {
        lines = draftLines(row);
        paintBody();
        if (navigator.onLine) void fetchHistory(app, 'quote', id).then((p) => alive && paintHistory(p));
      }
      paintHead();
      await paintNotices();
      if (row.state === 'draft') recompute();
    },
    destroy() {
      alive = false;
    },
  };
}

/** What the history card draws of a run: the server's Instance, or the ApprovalRound a pulled quote carries. */
export interface HistoryRound {
  status: string;
  startedAt: string;
  endedAt: string | null;
  steps: {
    name: string;
    label: string;
    status: string;
    deciders?: { name: string; decided: boolean }[];
    decisions: { decision: string; at: string; actorName: string; onBehalfOfName: string | null; comment: string }[];
  }[];
}
interface HistoryPage {
  items: HistoryRound[];
}

/** The approval rounds the sync pull keeps with the quote, newest first like the server's history. */
function historyFromPull(row: LocalQuote | undefined): HistoryPage | null {
  const rounds = (row as { approvals?: ApprovalRound[] } | undefined)?.approvals;
  return rounds?.length ? { items: [...rounds].reverse() } : null;
}

/** One workflow run: its status and when it ended (or began, while it runs), each step with its deciders and every decision. */
export function instanceView(instance: HistoryRound | Instance): HTMLElement {
  const when = instance.endedAt ? s('history.ended', { at: formatDateTime(instance.endedAt) }) : s('history.started', { at: formatDateTime(instance.startedAt) });
  return h(
    'div',
    { class: 'wf-instance', testid: 'history-instance', 'data-status': instance.status },
    h('p', null, h('strong', null, s(`wf.${instance.status}` as SalesKey)), ' · ', h('span', { class: 'muted small', testid: 'history-when' }, when)),
    instance.steps.length === 0 ? h('p', { class: 'muted small' }, s('history.noSteps')) : null,
    h(
      'ol',
      { class: 'plain-list' },
      instance.steps.map((step) =>
        h(
          'li',
          { class: 'wf-step', testid: 'history-step', 'data-status': step.status, 'data-name': step.name },
          h('div', { class: 'row between' }, h('span', null, step.label || step.name), h('span', { class: `badge wf-${step.status}` }, s(`step.${step.status}` as SalesKey))),
          step.status === 'pending' ? h('p', { class: 'muted small' }, s('history.waitingFor', { names: (step.deciders ?? []).filter((d) => !d.decided).map((d) => d.name).join(', ') || '—' })) : null,
          step.decisions.map((d) =>
            h(
              'p',
              { class: 'small', testid: 'history-decision', 'data-decision': d.decision },
              `${formatDateTime(d.at)} · ${d.actorName}${d.onBehalfOfName ? ` (${s('history.for', { name: d.onBehalfOfName })})` : ''} · ${s(`decision.${d.decision}` as SalesKey)}${d.comment ? ` — ${d.comment}` : ''}`,
            ),
          ),
        ),
      ),
    ),
  );
}
