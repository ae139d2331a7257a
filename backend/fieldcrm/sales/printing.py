"""The printable quote for the customer: one HTML page, every value escaped, print CSS, zh-CN or English."""

import html
import uuid

from fieldcrm.org.schemas import Actor
from fieldcrm.sales import quotes
from fieldcrm.sales.money import yuan
from fieldcrm.sales.schemas import Quote

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Quotation",
        "customer": "Customer",
        "number": "Quote no.",
        "revision": "Revision",
        "date": "Date",
        "valid": "Valid until",
        "prepared": "Prepared by",
        "code": "Code",
        "product": "Product",
        "unit": "Unit",
        "qty": "Qty",
        "list": "List price",
        "price": "Unit price",
        "discount": "Discount",
        "amount": "Amount",
        "list_total": "Total at list price",
        "total": "Total",
        "saving": "Your discount",
        "notes": "Notes",
        "draft": "DRAFT - not an offer",
        "open": "open",
    },
    "zh-CN": {
        "title": "报价单",
        "customer": "客户",
        "number": "报价单号",
        "revision": "版本",
        "date": "日期",
        "valid": "有效期至",
        "prepared": "客户经理",
        "code": "编码",
        "product": "产品",
        "unit": "单位",
        "qty": "数量",
        "list": "目录价",
        "price": "单价",
        "discount": "折扣",
        "amount": "金额",
        "list_total": "目录价合计",
        "total": "合计",
        "saving": "优惠",
        "notes": "备注",
        "draft": "草稿 — 非正式报价",
        "open": "未定",
    },
}

CSS = """
body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;margin:2rem;color:#111}
h1{font-size:1.6rem;margin:0 0 1rem}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ccc;padding:.35rem .5rem;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0 0 1.5rem}
dt{color:#555}
.totals td{border:none;font-weight:600}
.draft{color:#b00;font-weight:700;border:2px solid #b00;padding:.3rem .6rem;display:inline-block}
@media print{body{margin:0}@page{size:A4;margin:15mm}.draft{border-color:#000;color:#000}
tr{page-break-inside:avoid}}
"""


def _pct(bp: int) -> str:
    whole, part = divmod(bp, 100)
    return f"{whole}.{part:02d}%" if part else f"{whole}%"


def render(quote: Quote, locale: str) -> str:
    """The page (every value from the database goes through html.escape)."""
    t = LABELS.get(locale, LABELS["zh-CN"])
    e = html.escape
    rows = "".join(
        "<tr>"
        f"<td>{e(line.product_code)}</td><td>{e(line.product_name)}</td><td>{e(line.unit)}</td>"
        f'<td class="n">{line.quantity:,}</td><td class="n">{e(yuan(line.list_price_cents))}</td>'
        f'<td class="n">{e(yuan(line.unit_price_cents))}</td><td class="n">{_pct(line.discount_bp)}</td>'
        f'<td class="n">{e(yuan(line.total_cents))}</td>'
        "</tr>"
        for line in quote.lines
    )
    draft = f'<p class="draft">{e(t["draft"])}</p>' if quote.state in {"draft", "submitted", "returned"} else ""
    valid = quote.valid_until.isoformat() if quote.valid_until else t["open"]
    notes = f"<h2>{e(t['notes'])}</h2><p>{e(quote.notes)}</p>" if quote.notes else ""
    saving = quote.list_total_cents - quote.total_cents
    lang = "zh-CN" if locale == "zh-CN" else "en"
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{e(t["title"])} {e(quote.number)}</title><style>{CSS}</style></head>
<body>
<h1>{e(t["title"])} {e(quote.title)}</h1>{draft}
<dl>
<dt>{e(t["customer"])}</dt><dd>{e(quote.account_name)}</dd>
<dt>{e(t["number"])}</dt><dd>{e(quote.number)}</dd>
<dt>{e(t["revision"])}</dt><dd>{quote.revision}</dd>
<dt>{e(t["date"])}</dt><dd>{quote.updated_at.date().isoformat()}</dd>
<dt>{e(t["valid"])}</dt><dd>{e(valid)}</dd>
<dt>{e(t["prepared"])}</dt><dd>{e(quote.owner_name)}</dd>
</dl>
<table><thead><tr><th>{e(t["code"])}</th><th>{e(t["product"])}</th><th>{e(t["unit"])}</th>
<th class="n">{e(t["qty"])}</th><th class="n">{e(t["list"])}</th><th class="n">{e(t["price"])}</th>
<th class="n">{e(t["discount"])}</th><th class="n">{e(t["amount"])}</th></tr></thead>
<tbody>{rows}</tbody>
<tfoot class="totals">
<tr><td colspan="7">{e(t["list_total"])}</td><td class="n">{e(yuan(quote.list_total_cents))}</td></tr>
<tr><td colspan="7">{e(t["saving"])} ({_pct(quote.discount_bp)})</td><td class="n">{e(yuan(saving))}</td></tr>
<tr><td colspan="7">{e(t["total"])} ({e(quote.currency)})</td><td class="n">{e(yuan(quote.total_cents))}</td></tr>
</tfoot></table>
{notes}
</body></html>
"""


async def print_quote(*, actor: Actor, quote_id: uuid.UUID, lang: str | None = None) -> str:
    """The printable page of a quote the actor sees, in ``lang`` or the actor's language."""
    quote = await quotes.get_quote(actor=actor, quote_id=quote_id)
    return render(quote, lang or actor.locale)
