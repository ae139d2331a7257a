// The server's rules for opportunities, quotes and cases (sales/schemas.py, cases/schemas.py),
// checked before a change is queued, so a mistake is fixed on the spot, not met as a rejection.
import { parsePercent, parseYuan, quoteAmounts, MAX_AMOUNT_CENTS } from './money';
import { s } from './i18n';
import type { Product, QuoteLineIn, Stage } from './types';

export type Errors = Record<string, string>;

/** Digits (with a decimal part, thousands separators or ¥) that are an amount, only too many of them. */
function tooBigYuan(text: string): boolean {
  return /^\d{14,}(?:\.\d{0,2})?$/.test(text.replace(/[¥,\s，]/g, ''));
}

/** Why an amount in yuan is refused ('' when it is fine); empty text is 0. */
export function yuanError(text: string, field: string): string {
  if (text.trim() === '') return '';
  const cents = parseYuan(text);
  if (cents !== null && cents <= MAX_AMOUNT_CENTS) return '';
  return cents !== null || tooBigYuan(text) ? s('form.tooLargeYuan', { field }) : s('form.badYuan', { field });
}

export interface OpportunityInput {
  accountId: string;
  name: string;
  stage: string;
  amount: string;
  expectedClose: string;
  productIds: string[];
  competitor: string;
  nextStep: string;
  lostReason: string;
}

export interface OpportunityValues {
  accountId: string;
  name: string;
  stage: string;
  amountCents: number;
  expectedClose: string | null;
  productIds: string[];
  competitor: string;
  nextStep: string;
  lostReason: string;
}

export function validateOpportunity(input: OpportunityInput, stages: readonly Stage[]): { errors: Errors; values: OpportunityValues | null } {
  const errors: Errors = {};
  if (!input.accountId) errors.account = s('form.required', { field: s('opp.account') });
  const name = input.name.trim();
  if (!name) errors.name = s('form.required', { field: s('opp.name') });
  else if (name.length > 200) errors.name = s('form.tooLong', { field: s('opp.name'), n: 200 });
  const stage = stages.find((x) => x.key === input.stage);
  if (!stage) errors.stage = s('form.required', { field: s('opp.stage') });
  const amountCents = input.amount.trim() === '' ? 0 : parseYuan(input.amount);
  const amountError = yuanError(input.amount, s('opp.amount'));
  if (amountError) errors.amount = amountError;
  if (input.expectedClose && !/^\d{4}-\d{2}-\d{2}$/.test(input.expectedClose)) errors.expectedClose = s('form.badDate');
  if (input.competitor.length > 200) errors.competitor = s('form.tooLong', { field: s('opp.competitor'), n: 200 });
  if (input.nextStep.length > 10_000) errors.nextStep = s('form.tooLong', { field: s('opp.nextStep'), n: 10_000 });
  if (stage?.kind === 'lost' && !input.lostReason.trim()) errors.lostReason = s('opp.lostReasonNeeded');
  if (input.productIds.length > 100) errors.products = s('opp.tooManyProducts');
  if (Object.keys(errors).length) return { errors, values: null };
  return {
    errors,
    values: {
      accountId: input.accountId,
      name,
      stage: input.stage,
      amountCents: amountCents ?? 0,
      expectedClose: input.expectedClose || null,
      productIds: [...input.productIds],
      competitor: input.competitor.trim(),
      nextStep: input.nextStep.trim(),
      lostReason: stage?.kind === 'lost' ? input.lostReason.trim() : input.lostReason.trim(),
    },
  };
}

/** A line as the builder holds it: text the person typed. */
export interface LineDraft {
  productId: string;
  quantity: string;
  /** yuan; empty: the list price */
  unitPrice: string;
  /** percent */
  discount: string;
}

export interface ParsedLine {
  product: Product | undefined;
  quantity: number;
  listPriceCents: number;
  unitPriceCents: number;
  discountBp: number;
}

/** Parse one line; errors go under `lines.<i>.<field>`. */
export function parseLine(line: LineDraft, i: number, products: ReadonlyMap<string, Product>, errors: Errors): ParsedLine | null {
  const product = products.get(line.productId);
  let ok = true;
  if (!product) {
    errors[`lines.${i}.product`] = s('quote.noProduct');
    ok = false;
  }
  const q = line.quantity.trim();
  const quantity = /^\d{1,12}$/.test(q) ? Number(q) : NaN;
  if (!(quantity >= 1)) {
    errors[`lines.${i}.quantity`] = /^\d{13,}$/.test(q) ? s('quote.quantityTooLarge') : s('quote.badQuantity');
    ok = false;
  }
  const unitPriceCents = line.unitPrice.trim() === '' ? (product?.listPriceCents ?? 0) : parseYuan(line.unitPrice);
  const priceError = yuanError(line.unitPrice, s('quote.unitPrice'));
  if (priceError) {
    errors[`lines.${i}.unitPrice`] = priceError;
    ok = false;
  }
  const discountBp = parsePercent(line.discount);
  if (discountBp === null) {
    errors[`lines.${i}.discount`] = s('quote.badDiscount');
    ok = false;
  }
  if (!ok) return null;
  const parsed = { product, quantity, listPriceCents: product!.listPriceCents, unitPriceCents: unitPriceCents!, discountBp: discountBp! };
  // A line past what the server takes is marked where it can be fixed (its quantity or price).
  if (quoteAmounts([parsed]).tooLarge) {
    const text = s('quote.lineTooLarge');
    errors[`lines.${i}.${line.unitPrice.trim() === '' ? 'quantity' : 'unitPrice'}`] = text;
    return null;
  }
  return parsed;
}

export interface QuoteInput {
  title: string;
  validUntil: string;
  notes: string;
  lines: LineDraft[];
}

export interface QuoteValues {
  title: string;
  validUntil: string | null;
  notes: string;
  lines: QuoteLineIn[];
}

/** Check a quote; `submitting` adds the submit rules (a line at least, validity not past). */
export function validateQuote(
  input: QuoteInput,
  products: ReadonlyMap<string, Product>,
  options: { submitting: boolean; today: string },
): { errors: Errors; values: QuoteValues | null; parsed: (ParsedLine | null)[] } {
  const errors: Errors = {};
  if (input.title.length > 200) errors.title = s('form.tooLong', { field: s('quote.titleField'), n: 200 });
  if (input.notes.length > 10_000) errors.notes = s('form.tooLong', { field: s('quote.notes'), n: 10_000 });
  if (input.validUntil && !/^\d{4}-\d{2}-\d{2}$/.test(input.validUntil)) errors.validUntil = s('form.badDate');
  else if (options.submitting && input.validUntil && input.validUntil < options.today) errors.validUntil = s('quote.validPast');
  if (input.lines.length > 500) errors.lines = s('quote.tooManyLines');
  else if (options.submitting && input.lines.length === 0) errors.lines = s('quote.noLines');
  const parsed = input.lines.map((line, i) => parseLine(line, i, products, errors));
  if (!errors.lines && parsed.every(Boolean) && quoteAmounts(parsed as ParsedLine[]).tooLarge) errors.lines = s('quote.tooLarge');
  if (Object.keys(errors).length) return { errors, values: null, parsed };
  return {
    errors,
    parsed,
    values: {
      title: input.title.trim(),
      validUntil: input.validUntil || null,
      notes: input.notes,
      lines: (parsed as ParsedLine[]).map((p, i) => {
        const line: QuoteLineIn = { productId: input.lines[i]!.productId, quantity: p.quantity, discountBp: p.discountBp };
        // An unchanged list price is left to the server (it prices from the catalogue as it is then).
        if (input.lines[i]!.unitPrice.trim() !== '') line.unitPriceCents = p.unitPriceCents;
        return line;
      }),
    },
  };
}

export interface CaseInput {
  accountId: string;
  type: string;
  priority: string;
  title: string;
  description: string;
}

export function validateCase(input: CaseInput): Errors {
  const errors: Errors = {};
  if (!input.accountId) errors.account = s('form.required', { field: s('case.account') });
  const title = input.title.trim();
  if (!title) errors.title = s('form.required', { field: s('case.titleField') });
  else if (title.length > 200) errors.title = s('form.tooLong', { field: s('case.titleField'), n: 200 });
  if (input.description.length > 10_000) errors.description = s('form.tooLong', { field: s('case.description'), n: 10_000 });
  return errors;
}
