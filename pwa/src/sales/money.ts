// A quote's arithmetic on the device, the same as backend/fieldcrm/sales/money.py: integer cents,
// discounts in basis points (1 bp = 0.01 %), a line's discount = quantity × unit price × bp / 10000
// rounded to the cent half up, the line total = gross − discount, the overall depth =
// (list − total) × 10000 / list half up. BigInt for the products (they pass 2^53); never a float.
// It is a preview: the server's totals are the truth once it has the quote.

export const BP = 10_000;
export const MAX_AMOUNT_CENTS = 10 ** 15;

export interface LineInput {
  quantity: number;
  listPriceCents: number;
  unitPriceCents: number;
  discountBp: number;
}

export interface LineAmounts {
  grossCents: number;
  listCents: number;
  discountCents: number;
  totalCents: number;
  depthBp: number;
}

export interface QuoteAmounts {
  lines: LineAmounts[];
  listTotalCents: number;
  totalCents: number;
  discountBp: number;
  /** a line or the total passes what the server takes */
  tooLarge: boolean;
}

/** numerator / denominator rounded to the nearest integer, halves away from zero (denominator > 0). */
export function roundHalfUp(numerator: bigint, denominator: bigint): bigint {
  if (numerator >= 0n) return (2n * numerator + denominator) / (2n * denominator);
  return -((-2n * numerator + denominator) / (2n * denominator));
}

/** How far `total` lies below `list`, in basis points (0 at or above list, or when list is 0). */
export function depthBp(listCents: number, totalCents: number): number {
  if (listCents <= 0 || totalCents >= listCents) return 0;
  return Number(roundHalfUp(BigInt(listCents - totalCents) * BigInt(BP), BigInt(listCents)));
}

export function lineAmounts(line: LineInput): LineAmounts {
  const quantity = BigInt(line.quantity);
  const gross = quantity * BigInt(line.unitPriceCents);
  const atList = quantity * BigInt(line.listPriceCents);
  const discount = roundHalfUp(gross * BigInt(line.discountBp), BigInt(BP));
  const total = gross - discount;
  return {
    grossCents: Number(gross),
    listCents: Number(atList),
    discountCents: Number(discount),
    totalCents: Number(total),
    depthBp: depthBp(Number(atList), Number(total)),
  };
}

export function quoteAmounts(lines: readonly LineInput[]): QuoteAmounts {
  const amounts = lines.map(lineAmounts);
  const listTotal = amounts.reduce((sum, a) => sum + a.listCents, 0);
  const total = amounts.reduce((sum, a) => sum + a.totalCents, 0);
  const tooLarge = listTotal > MAX_AMOUNT_CENTS || amounts.some((a) => a.grossCents > MAX_AMOUNT_CENTS || a.listCents > MAX_AMOUNT_CENTS);
  return { lines: amounts, listTotalCents: listTotal, totalCents: total, discountBp: depthBp(listTotal, total), tooLarge };
}

/** "1,234.56" / "1234.5" / "¥1 234" as cents; null when it is not an amount (never through a float). */
export function parseYuan(text: string): number | null {
  const clean = text.replace(/[¥,\s，]/g, '');
  const match = /^(\d{1,13})(?:\.(\d{0,2}))?$/.exec(clean);
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}

/** Cents as an input's text: "1234.5" → "1234.50", whole yuan without decimals. */
export function yuanInput(cents: number): string {
  const whole = Math.trunc(cents / 100);
  const part = cents % 100;
  return part === 0 ? String(whole) : `${whole}.${String(part).padStart(2, '0')}`;
}

/** "12.5" (percent) as basis points: 1250; null when it is not a percentage from 0 to 100 with at most two decimals. */
export function parsePercent(text: string): number | null {
  const clean = text.replace(/[%\s]/g, '');
  if (clean === '') return 0;
  const match = /^(\d{1,3})(?:\.(\d{0,2}))?$/.exec(clean);
  if (!match) return null;
  const bp = Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
  return bp > BP ? null : bp;
}

/** Basis points as a percentage's text: 1250 → "12.5". */
export function percentText(bp: number): string {
  const whole = Math.trunc(bp / 100);
  const part = bp % 100;
  if (part === 0) return String(whole);
  return `${whole}.${String(part).padStart(2, '0').replace(/0$/, '')}`;
}

/** Exact "¥1,234.56" (the printable quote's form); the screens use the locale's money format. */
export function yuanExact(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const whole = Math.trunc(abs / 100).toLocaleString('en-US');
  return `${sign}¥${whole}.${String(abs % 100).padStart(2, '0')}`;
}
