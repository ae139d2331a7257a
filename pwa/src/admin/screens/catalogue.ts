// #/catalogue: products and tariffs (HQ): list price and the discount a rep may give without an
// approval; edit one or add one. Prices are typed in yuan and sent in cents; limits in percent, sent in basis points.
import type { App } from '../../app';
import { getLocale } from '../../i18n';
import { clear, h } from '../../ui/dom';
import type { Screen } from '../../ui/shell';
import { ax } from '../i18n';
import { dataTable, fetchAll, labelled, message, notAllowed, panel, parseYuan, problemText, yuan } from './common';

interface Product {
  id: string;
  code: string;
  name: string;
  unit: string;
  category: string;
  listPriceCents: number;
  maxDiscountBp: number;
  active: boolean;
  version: number;
  updatedAt: string;
}

export function money2(cents: number): string {
  return new Intl.NumberFormat(getLocale(), { style: 'currency', currency: 'CNY', minimumFractionDigits: 2 }).format(cents / 100);
}

function percent(bp: number): string {
  return `${(bp / 100).toLocaleString(getLocale(), { maximumFractionDigits: 2 })}%`;
}

function parsePercent(text: string): number | null {
  const t = text.trim().replace('%', '');
  if (!/^\d{1,3}(\.\d{1,2})?$/.test(t)) return null;
  const bp = Math.round(Number(t) * 100);
  return bp <= 10_000 ? bp : null;
}

export async function catalogueScreen(app: App): Promise<Screen> {
  if (!app.can('catalogue.manage')) return notAllowed(ax('cat.title'));
  const status = message('cat-message');
  const listBox = h('div', { class: 'admin-col', testid: 'cat-list' });
  const side = h('div', { class: 'admin-col', testid: 'cat-side' });
  let products: Product[] = [];
  let selected: string | null = null;

  async function load(): Promise<void> {
    const r = await fetchAll<Product>(app, '/api/products');
    if (!r.ok) return status.set(r.message);
    products = r.items.sort((a, b) => a.code.localeCompare(b.code));
    render();
  }

  function render(): void {
    clear(
      listBox,
      products.length
        ? dataTable(
            ax('cat.title'),
            'cat-table',
            [ax('cat.code'), ax('cat.name'), ax('cat.price'), ax('cat.limit'), ax('cat.state')],
            products.map((p) =>
              h(
                'tr',
                { testid: 'product-row', 'data-id': p.id, 'data-cents': String(p.listPriceCents), 'data-bp': String(p.maxDiscountBp), class: p.id === selected ? 'row-on' : undefined },
                h('td', null, p.code),
                h('td', null, h('button', { type: 'button', class: 'link-btn', testid: 'product-open', onclick: () => pick(p.id) }, p.name)),
                h('td', { class: 'num', testid: 'product-price' }, money2(p.listPriceCents), p.unit ? h('span', { class: 'muted small' }, ` / ${p.unit}`) : null),
                h('td', { class: 'num', testid: 'product-limit' }, percent(p.maxDiscountBp)),
                h('td', null, p.active ? ax('cat.active') : ax('cat.inactive')),
              ),
            ),
            [2, 3],
            [0, 4],
          )
        : h('p', { class: 'empty', testid: 'cat-empty' }, ax('cat.none')),
    );
    renderSide();
  }

  function pick(id: string | null): void {
    selected = id;
    status.set('');
    render();
  }

  function renderSide(): void {
    const product = products.find((p) => p.id === selected);
    const code = h('input', { type: 'text', testid: 'product-code', value: product?.code ?? '', maxlength: 32, readOnly: !!product });
    const name = h('input', { type: 'text', testid: 'product-name', value: product?.name ?? '', maxlength: 120 });
    const unit = h('input', { type: 'text', testid: 'product-unit', value: product?.unit ?? '', maxlength: 32 });
    const price = h('input', { type: 'text', inputmode: 'decimal', testid: 'product-price-input', value: product ? yuan(product.listPriceCents) : '' });
    const limit = h('input', { type: 'text', inputmode: 'decimal', testid: 'product-limit-input', value: product ? String(product.maxDiscountBp / 100) : '0' });
    const active = h('input', { type: 'checkbox', testid: 'product-active', checked: product ? product.active : true, class: 'check' });
    const errors = {
      name: h('p', { class: 'field-error', testid: 'product-name-error', hidden: true }),
      price: h('p', { class: 'field-error', testid: 'product-price-error', hidden: true }),
      limit: h('p', { class: 'field-error', testid: 'product-limit-error', hidden: true }),
    };
    const fail = (which: keyof typeof errors, text: string) => {
      errors[which].textContent = text;
      errors[which].hidden = false;
    };
    const form = h(
      'form',
      {
        class: 'form',
        testid: 'product-form',
        onsubmit: async (event: Event) => {
          event.preventDefault();
          for (const e of Object.values(errors)) e.hidden = true;
          const cents = parseYuan(price.value);
          const bp = parsePercent(limit.value);
          let bad = false;
          if (!name.value.trim()) bad = (fail('name', ax('cat.nameRequired')), true);
          if (cents === null) bad = (fail('price', ax('cat.badPrice')), true);
          if (bp === null) bad = (fail('limit', ax('cat.badLimit')), true);
          if (bad || cents === null || bp === null) return;
          const body = { name: name.value.trim(), unit: unit.value.trim(), listPriceCents: cents, maxDiscountBp: bp, active: active.checked };
          const r = product
            ? await app.api.send<Product>('PATCH', `/api/products/${product.id}`, body)
            : await app.api.post<Product>('/api/products', { ...body, code: code.value.trim() });
          if (!r.ok) return status.set(problemText(r));
          selected = r.data.id;
          await load();
          status.set(ax('cat.saved', { name: r.data.name }), 'ok');
        },
      },
      labelled('product-code', ax('cat.code'), code),
      h('div', { class: 'field' }, h('label', { for: 'product-name' }, ax('cat.name')), name, errors.name),
      labelled('product-unit', ax('cat.unit'), unit),
      h('div', { class: 'field' }, h('label', { for: 'product-price-input' }, ax('cat.priceYuan')), price, errors.price),
      h('div', { class: 'field' }, h('label', { for: 'product-limit-input' }, ax('cat.limitPercent')), limit, h('p', { class: 'muted small' }, ax('cat.limitHint')), errors.limit),
      h('label', { class: 'check-row' }, active, ax('cat.active')),
      h('div', { class: 'row' }, h('button', { type: 'submit', class: 'btn btn-primary', testid: 'product-save' }, ax('save')), product ? h('button', { type: 'button', class: 'btn', testid: 'product-new', onclick: () => pick(null) }, ax('cat.add')) : null),
    );
    name.id = 'product-name';
    price.id = 'product-price-input';
    limit.id = 'product-limit-input';
    clear(side, panel(product ? product.name : ax('cat.add'), 'product-panel', form));
  }

  await load();
  return {
    el: h('div', { testid: 'cat-screen' }, status.el, h('div', { class: 'admin-two' }, listBox, side)),
    title: ax('cat.title'),
    back: '#/admin',
  };
}
