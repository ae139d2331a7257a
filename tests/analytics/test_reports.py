"""Reports from the hand-built month, their scope, and their CSV/XLSX exports opened back with the library."""

import csv
import io
from typing import Any

import httpx
import openpyxl

from fieldcrm.analytics import labels
from tests.analytics import fixture
from tests.factories import Org, Person

NOV = {"period": "month", "at": "2026-11-15"}


async def _report(client: httpx.AsyncClient, who: Person, name: str, **params: Any) -> dict[str, Any]:
    r = await client.get(f"/api/reports/{name}", params={**NOV, **params}, headers=who.headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _by_first(body: dict[str, Any]) -> dict[Any, list[Any]]:
    return {row[0]: row for row in body["rows"]}


async def test_revenue_reports(client: httpx.AsyncClient, org: Org) -> None:
    await fixture.build(org)
    industry = await _report(client, org.hq, "revenue-by-industry")
    assert (industry["start"], industry["end"]) == ("2025-12-01", "2026-11-30")
    assert [c["key"] for c in industry["columns"]][1] == "2025-12"
    steel = _by_first(industry)["钢铁"]
    assert steel[-3:] == [5_000_00, 15_000_00, 20_000_00]  # October, November, the total
    region = _by_first(await _report(client, org.hq, "revenue-by-region"))
    assert (region["山东省 Shandong"][-1], region["湖北省 Hubei"][-1]) == (11_000_00, 9_000_00)
    tier = _by_first(await _report(client, org.hq, "revenue-by-tier"))
    assert (tier["A"][-1], tier["C"][-1]) == (11_000_00, 9_000_00)
    product = (await _report(client, org.hq, "revenue-by-product"))["rows"]
    assert product == [["DL100", "专线 100M", *([0] * 10), 2_000_00, 2_000_00, 4_000_00]]


async def test_funnel_won_lost_discount_and_sla(client: httpx.AsyncClient, org: Org) -> None:
    await fixture.build(org)
    funnel = await _report(client, org.hq, "funnel", lang="en")
    assert [c["label"] for c in funnel["columns"]][:2] == ["Stage", "Opportunities"]
    rows = _by_first(funnel)
    assert rows["Lead"][1:] == [1, 0, 4, None]  # four made in November, one still a lead
    assert rows["Qualified"][3:] == [3, 0.75]
    assert rows["Won"][1:] == [3, 150_000_00, 3, 1.0]  # rep_b, rep_a2, rep_c
    won_lost = (await _report(client, org.hq, "won-lost"))["rows"]
    assert won_lost == [["赢单", "", 4, 250_000_00, 0.8], ["丢单", "价格太高", 1, 40_000_00, 0.2]]
    discount = (await _report(client, org.hq, "discount-by-rep"))["rows"]
    assert discount == [["Rep A", "Jinan Team A", 2, 400_000, 330_000, 1750, 2000]]
    sla = _by_first(await _report(client, org.hq, "case-sla", lang="en"))
    assert sla["Complaint"][1:] == [2, 2, 1, 0.5, 47 * 3600]
    assert sla["Fault"][1:] == [1, 0, 1, 1.0, None]


async def test_reports_are_scoped(client: httpx.AsyncClient, org: Org) -> None:
    await fixture.build(org)
    a = _by_first(await _report(client, org.manager_a, "revenue-by-region"))
    assert set(a) == {"山东省 Shandong"}
    assert (await _report(client, org.manager_b, "revenue-by-region"))["rows"] == []
    mine = await _report(client, org.rep_c, "won-lost")
    assert mine["rows"] == [["赢单", "", 1, 70_000_00, 1.0]]
    south = await client.get(
        "/api/reports/funnel", params={"level": "province", "id": str(org.units["south"])}, headers=org.director.headers
    )
    assert south.status_code == 404
    nothing = await client.get("/api/reports/nonsense", headers=org.hq.headers)
    assert nothing.status_code == 404


async def test_csv_export_keeps_chinese_and_numbers(client: httpx.AsyncClient, org: Org) -> None:
    await fixture.build(org)
    r = await client.get(
        "/api/reports/revenue-by-industry/export", params={**NOV, "format": "csv", "lang": "en"}, headers=org.hq.headers
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert "revenue-by-industry_2025-12-01_2026-11-30.csv" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][0] == "Industry" and rows[0][-1] == "Total (CNY)"
    steel = next(row for row in rows if row[0] == "钢铁")
    assert steel[-1] == "20000.00"


async def test_xlsx_export_opens_with_numbers_as_numbers(client: httpx.AsyncClient, org: Org) -> None:
    await fixture.build(org)
    r = await client.get("/api/reports/won-lost/export", params={**NOV, "format": "xlsx"}, headers=org.hq.headers)
    assert r.status_code == 200, r.text
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("结果", "丢单原因", "商机数", "金额（元）", "占比")
    assert rows[2] == ("丢单", "价格太高", 1, 40_000.0, 0.2)
    assert sheet.cell(row=3, column=4).number_format == "#,##0.00"
    assert sheet.cell(row=3, column=5).number_format == "0.0%"
    board = await client.get(
        "/api/kpis/leaderboard/export", params={**NOV, "format": "xlsx", "lang": "en"}, headers=org.hq.headers
    )
    assert board.status_code == 200, board.text
    sheet = openpyxl.load_workbook(io.BytesIO(board.content)).active
    assert sheet is not None
    lines = list(sheet.iter_rows(values_only=True))
    assert lines[0][:3] == ("Rank", "Name", "Visits done")
    assert lines[1][:2] == (1, "山东省 Shandong")
    assert lines[1][7] == 180_000.0  # won revenue in yuan, a number
    bad = await client.get("/api/reports/funnel/export", params={"format": "pdf"}, headers=org.hq.headers)
    assert (bad.status_code, bad.json()["field"]) == (422, "format")
    assert (await client.get("/api/kpis/leaderboard/export", headers=org.rep_a.headers)).status_code == 403


def test_every_label_has_both_languages() -> None:
    assert set(labels.TEXT["zh-CN"]) == set(labels.TEXT["en"])
    assert all(labels.TEXT[lang][k].strip() for lang in labels.TEXT for k in labels.TEXT[lang])
