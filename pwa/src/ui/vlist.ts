// A virtualised list: only the rows in view (plus a few) exist in the DOM, so thousands of
// accounts scroll smoothly on a modest phone. Rows have a fixed height and are positioned
// absolutely; a row that stays in view is kept, so scrolling builds only the rows coming in.
import { h } from './dom';

export interface VirtualList<T> {
  el: HTMLElement;
  setItems(items: readonly T[], keepScroll?: boolean): void;
  scrollTop(): number;
  restoreScroll(top: number): void;
  destroy(): void;
}

const OVERSCAN = 6;

export function virtualList<T>(options: {
  rowHeight: number;
  render: (item: T, index: number) => HTMLElement;
  testid?: string;
  label?: string;
}): VirtualList<T> {
  const { rowHeight } = options;
  const spacer = h('div', { class: 'vlist-spacer', role: 'list' });
  const el = h('div', { class: 'vlist', testid: options.testid, 'aria-label': options.label }, spacer);
  let items: readonly T[] = [];
  let rows = new Map<number, HTMLElement>();
  let first = 0;
  let last = 0;
  let frame = 0;

  const build = (i: number): HTMLElement => {
    const row = options.render(items[i]!, i);
    row.classList.add('vlist-row');
    row.setAttribute('role', 'listitem');
    row.style.height = `${rowHeight}px`;
    row.style.transform = `translateY(${i * rowHeight}px)`;
    return row;
  };

  const paint = (rebuild = false) => {
    frame = 0;
    const top = el.scrollTop;
    const height = el.clientHeight || window.innerHeight;
    const start = Math.max(0, Math.floor(top / rowHeight) - OVERSCAN);
    const end = Math.min(items.length, Math.ceil((top + height) / rowHeight) + OVERSCAN);
    if (!rebuild && start === first && end === last) return;
    if (rebuild) {
      rows = new Map();
      const fresh: HTMLElement[] = [];
      for (let i = start; i < end; i++) {
        const row = build(i);
        rows.set(i, row);
        fresh.push(row);
      }
      spacer.replaceChildren(...fresh);
    } else {
      for (const [i, row] of rows) {
        if (i < start || i >= end) {
          row.remove();
          rows.delete(i);
        }
      }
      // Keep DOM order equal to list order (reading and tab order): new rows above go first.
      const above: HTMLElement[] = [];
      for (let i = start; i < Math.min(end, first); i++) {
        const row = build(i);
        rows.set(i, row);
        above.push(row);
      }
      if (above.length) spacer.prepend(...above);
      const below: HTMLElement[] = [];
      for (let i = Math.max(start, last); i < end; i++) {
        if (rows.has(i)) continue;
        const row = build(i);
        rows.set(i, row);
        below.push(row);
      }
      // A jump past the old range leaves gaps in between: fill them in order.
      for (let i = start; i < end; i++) {
        if (!rows.has(i)) {
          const row = build(i);
          rows.set(i, row);
          below.push(row);
        }
      }
      if (below.length) spacer.append(...below);
      if (first >= end || last <= start) {
        // Nothing was shared: put the rows in order.
        spacer.replaceChildren(...[...rows.entries()].sort((a, b) => a[0] - b[0]).map(([, row]) => row));
      }
    }
    first = start;
    last = end;
  };

  const onScroll = () => {
    if (!frame) frame = requestAnimationFrame(() => paint());
  };
  el.addEventListener('scroll', onScroll, { passive: true });
  const resize = typeof ResizeObserver === 'function' ? new ResizeObserver(() => paint()) : null;
  resize?.observe(el);

  return {
    el,
    setItems(next, keepScroll = false) {
      items = next;
      spacer.style.height = `${items.length * rowHeight}px`;
      if (!keepScroll) el.scrollTop = 0;
      paint(true);
    },
    scrollTop: () => el.scrollTop,
    restoreScroll(top) {
      el.scrollTop = top;
      paint(true);
    },
    destroy() {
      el.removeEventListener('scroll', onScroll);
      resize?.disconnect();
      if (frame) cancelAnimationFrame(frame);
    },
  };
}
