// Message catalogues and formatting in the chosen language.
import en from './en';
import zhCN from './zh-CN';

export type Locale = 'zh-CN' | 'en';
export type MsgKey = keyof typeof en;
export const LOCALES: readonly Locale[] = ['zh-CN', 'en'];

const catalogues: Record<Locale, Record<MsgKey, string>> = { en, 'zh-CN': zhCN };
let current: Locale = 'en';

export function detectLocale(languages: readonly string[] = globalThis.navigator?.languages ?? []): Locale {
  for (const language of languages) {
    const lower = language.toLowerCase();
    if (lower.startsWith('zh')) return 'zh-CN';
    if (lower.startsWith('en')) return 'en';
  }
  return 'zh-CN';
}

export function isLocale(value: unknown): value is Locale {
  return value === 'zh-CN' || value === 'en';
}

export function setLocale(locale: Locale): void {
  current = locale;
  if (globalThis.document) document.documentElement.lang = locale;
}

export function getLocale(): Locale {
  return current;
}

export type Params = Record<string, string | number>;

export function t(key: MsgKey, params?: Params): string {
  const template = catalogues[current][key] ?? en[key] ?? key;
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    return value === undefined ? whole : typeof value === 'number' ? formatNumber(value) : value;
  });
}

/** A message key built at run time (a status, a role, a timeline kind), if the catalogue has it. */
export function hasKey(key: string): key is MsgKey {
  return Object.prototype.hasOwnProperty.call(en, key);
}

// Building an Intl formatter costs far more than using one: keep one per language and style.
const formatters = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();

function numberFormat(name: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${current}|n|${name}`;
  let f = formatters.get(key) as Intl.NumberFormat | undefined;
  if (!f) formatters.set(key, (f = new Intl.NumberFormat(current, options)));
  return f;
}

function dateFormat(name: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${current}|d|${name}`;
  let f = formatters.get(key) as Intl.DateTimeFormat | undefined;
  if (!f) formatters.set(key, (f = new Intl.DateTimeFormat(current, options)));
  return f;
}

export function formatNumber(n: number): string {
  return numberFormat('plain', {}).format(n);
}

export function formatMoney(cents: number, compact = false): string {
  const options: Intl.NumberFormatOptions = compact
    ? { style: 'currency', currency: 'CNY', maximumFractionDigits: 1, notation: 'compact' }
    : { style: 'currency', currency: 'CNY', maximumFractionDigits: 0 };
  return numberFormat(compact ? 'money-compact' : 'money', options).format(cents / 100);
}

export function formatDate(iso: string): string {
  const date = iso.length === 10 ? new Date(`${iso}T00:00:00`) : new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return dateFormat('date', { year: 'numeric', month: 'short', day: 'numeric' }).format(date);
}

export function formatDateTime(iso: string, now: Date = new Date()): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const thisYear = date.getFullYear() === now.getFullYear();
  return dateFormat(thisYear ? 'datetime' : 'datetime-year', {
    year: thisYear ? undefined : 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  }).format(date);
}

export function formatTime(ms: number): string {
  return dateFormat('time', { hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(new Date(ms));
}

export function formatMonth(month: string): string {
  const [y, m] = month.split('-').map(Number);
  if (!y || !m) return month;
  return dateFormat('month', { year: '2-digit', month: 'short' }).format(new Date(y, m - 1, 1));
}

/** "just now", "5 minutes ago", or a date for older times. */
export function formatAgo(iso: string, now: number = Date.now()): string {
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return iso;
  const seconds = Math.round((now - then) / 1000);
  if (seconds < 45) return t('time.justNow');
  const rtf = new Intl.RelativeTimeFormat(current, { numeric: 'auto', style: 'short' });
  if (seconds < 3600) return rtf.format(-Math.round(seconds / 60), 'minute');
  if (seconds < 86_400) return rtf.format(-Math.round(seconds / 3600), 'hour');
  return formatDateTime(iso);
}
