// The server's field rules (accounts/schemas.py), checked before a change is queued, so a
// mistake is fixed on the spot instead of coming back as a rejection.
import { t, type MsgKey } from '../i18n';

export const PHONE_RE = /^[0-9+\-() ]{3,32}$/;
export const EMAIL_RE = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export type Errors = Record<string, string>;

export function parsePhones(text: string): string[] {
  return text
    .split(/[\n,;，；]+/)
    .map((p) => p.trim())
    .filter(Boolean);
}

function length(errors: Errors, field: string, label: MsgKey, value: string, max: number, required = false): void {
  if (required && !value.trim()) errors[field] = t('form.required', { field: t(label) });
  else if (value.length > max) errors[field] = t('form.tooLong', { field: t(label), n: max });
}

export interface ContactInput {
  name: string;
  title: string;
  phones: string[];
  email: string | null;
  notes: string;
}

export function validateContact(c: ContactInput): Errors {
  const errors: Errors = {};
  length(errors, 'name', 'contact.name', c.name, 120, true);
  length(errors, 'title', 'contact.title', c.title, 120);
  if (c.phones.length > 10) errors.phones = t('form.tooManyPhones');
  else if (c.phones.some((p) => !PHONE_RE.test(p))) errors.phones = t('form.badPhone');
  if (c.email !== null && (c.email.length > 254 || !EMAIL_RE.test(c.email))) errors.email = t('form.badEmail');
  length(errors, 'notes', 'contact.notes', c.notes, 10_000);
  return errors;
}

export interface AccountInput {
  name: string;
  industry: string;
  address: string;
  city: string;
  memberLines: string;
  notes: string;
}

export function validateAccount(a: AccountInput): Errors {
  const errors: Errors = {};
  length(errors, 'name', 'acct.name', a.name, 200, true);
  length(errors, 'industry', 'acct.industry', a.industry, 120);
  length(errors, 'address', 'acct.address', a.address, 300);
  length(errors, 'city', 'acct.city', a.city, 120);
  const lines = a.memberLines.trim();
  if (!/^\d+$/.test(lines) || Number(lines) > 10_000_000) errors.memberLines = t('form.badNumber', { field: t('acct.memberLines') });
  length(errors, 'notes', 'acct.notes', a.notes, 10_000);
  return errors;
}

/** The fields whose value differs (arrays compared by content). */
export function diff<T extends object>(before: T, after: Partial<T>): Partial<T> {
  const changes: Partial<T> = {};
  for (const key of Object.keys(after) as (keyof T)[]) {
    const a = before[key];
    const b = after[key];
    if (JSON.stringify(a) !== JSON.stringify(b)) changes[key] = b;
  }
  return changes;
}
