// A few lines instead of a framework: build elements with properties, listeners and children.
// Text always goes in as text nodes (never HTML), styles only through classes or the CSSOM,
// listeners through addEventListener: the page runs under a strict CSP.

export type Child = Node | string | number | null | undefined | false | readonly Child[];
type Listener = (event: Event) => void;
export type Props = Record<string, unknown> & { class?: string; testid?: string };

const PROPERTIES = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'readOnly', 'required', 'multiple']);

function setProps(el: Element, props: Props): void {
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') el.setAttribute('class', String(value));
    else if (name === 'testid') el.setAttribute('data-testid', String(value));
    else if (name === 'style') throw new Error('set styles through classes or el.style');
    else if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value as Listener);
    else if (PROPERTIES.has(name)) (el as unknown as Record<string, unknown>)[name] = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, ...(child as Child[]));
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Props | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props) setProps(el, props);
  append(el, ...children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg<K extends keyof SVGElementTagNameMap>(tag: K, props?: Props | null, ...children: Child[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  if (props) setProps(el, props);
  append(el, ...children);
  return el;
}

export function clear(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, ...children);
}

/** A <select> with options [value, label]. */
export function select(props: Props, options: readonly (readonly [string, string])[], current: string): HTMLSelectElement {
  return h(
    'select',
    props,
    options.map(([value, label]) => h('option', { value, selected: value === current }, label)),
  );
}
