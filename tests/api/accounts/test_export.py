"""Account export: scoped like the list, Excel-friendly encodings, re-importable, streamed in batches."""

import csv
import io
from typing import Any

from fieldcrm.accounts import imports
from tests.factories import make_account

HEADER = [
    "code",
    "name",
    "industry",
    "owner",
    "org_unit",
    "address",
    "city",
    "latitude",
    "longitude",
    "visit_radius_m",
    "status",
    "parent_code",
    "member_lines",
    "notes",
    "tier",
    "revenue_12m",
]


async def _export(client: Any, person: Any, **params: Any) -> Any:
    r = await client.get("/api/accounts/export", params=params, headers=person.headers)
    assert r.status_code == 200, r.text
    return r


def _rows(content: bytes, encoding: str = "utf-8-sig") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode(encoding), newline="")))


async def _three_teams(org: Any) -> None:
    await make_account(org, "rep_a", code="A-1", name="济南钢铁集团", city="济南", latitude=36.68, longitude=117.06)
    await make_account(org, "rep_a", code="A-2", name="山东高速", status="active")
    await make_account(org, "rep_a2", code="A2-1", name="Team A other rep")
    await make_account(org, "rep_b", code="B-1", name="齐鲁制药")
    await make_account(org, "rep_c", code="C-1", name="武汉光谷")


async def test_each_person_exports_exactly_what_they_see(client, org) -> None:
    await _three_teams(org)
    expected = {
        "rep_a": {"A-1", "A-2"},
        "manager_a": {"A-1", "A-2", "A2-1"},
        "director": {"A-1", "A-2", "A2-1", "B-1"},
        "hq": {"A-1", "A-2", "A2-1", "B-1", "C-1"},
    }
    for name, codes in expected.items():
        person = org.people[name]
        rows = _rows((await _export(client, person)).content)
        assert {r["code"] for r in rows} == codes, name
        listed = (await client.get("/api/accounts", headers=person.headers)).json()["items"]
        assert {a["code"] for a in listed} == codes, name


async def test_filters_and_sort_match_the_list(client, org) -> None:
    await _three_teams(org)
    rows = _rows((await _export(client, org.hq, status="active", sort="-code")).content)
    assert [r["code"] for r in rows] == ["A-2"]
    rows = _rows((await _export(client, org.hq, orgUnitId=str(org.units["team_a"]), sort="-code")).content)
    assert [r["code"] for r in rows] == ["A2-1", "A-2", "A-1"]
    r = await client.get("/api/accounts/export", params={"sort": "colour"}, headers=org.hq.headers)
    assert r.status_code == 422


async def test_utf8_export_has_a_bom_and_the_import_header(client, org) -> None:
    await _three_teams(org)
    r = await _export(client, org.hq)
    assert r.content.startswith(b"\xef\xbb\xbf")
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith("attachment; filename=")
    reader = csv.reader(io.StringIO(r.content.decode("utf-8-sig"), newline=""))
    assert next(reader) == HEADER
    row = next(r for r in _rows(r.content) if r["code"] == "A-1")
    assert row["name"] == "济南钢铁集团"
    assert (row["owner"], row["org_unit"]) == ("rep_a", "Jinan Team A")
    assert (row["latitude"], row["longitude"], row["revenue_12m"]) == ("36.68", "117.06", "0")


async def test_gbk_export_decodes(client, org) -> None:
    await _three_teams(org)
    r = await _export(client, org.hq, encoding="gbk")
    assert not r.content.startswith(b"\xef\xbb\xbf")
    names = {row["name"] for row in _rows(r.content, "gbk")}
    assert {"济南钢铁集团", "齐鲁制药", "武汉光谷"} <= names
    bad = await client.get("/api/accounts/export", params={"encoding": "latin-1"}, headers=org.hq.headers)
    assert bad.status_code == 400


async def test_export_reimports_cleanly(client, org) -> None:
    await _three_teams(org)
    group = await make_account(org, "rep_b", code="G-1", name='=HYPERLINK("http://x")', notes="第一行\n第二行, 有逗号")
    await make_account(org, "rep_b", code="G-1-1", name="成员公司", parent_id=group)
    await client.post("/api/segmentation", headers=org.hq.headers)
    for encoding in ("utf-8", "gbk"):
        content = (await _export(client, org.hq, encoding=encoding)).content
        if encoding == "utf-8":
            guarded = next(r for r in _rows(content) if r["code"] == "G-1")
            assert guarded["name"].startswith("'=")  # a spreadsheet shows it as text, never runs it
        r = await client.post(
            "/api/imports",
            params={"kind": "accounts", "encoding": encoding},
            content=content,
            headers={**org.hq.headers, "Content-Type": "text/csv"},
        )
        assert r.status_code == 200, r.text
        report = r.json()
        assert (report["rows"], report["created"], report["updated"], report["unchanged"]) == (7, 0, 0, 7)
        assert report["errors"] == [] and report["warnings"] == []
    account = (await client.get(f"/api/accounts/{group}", headers=org.hq.headers)).json()
    assert account["name"] == '=HYPERLINK("http://x")'


async def test_export_streams_in_batches(client, org, monkeypatch) -> None:
    monkeypatch.setattr(imports, "EXPORT_BATCH", 2)
    await _three_teams(org)
    rows = _rows((await _export(client, org.hq, sort="code")).content)
    assert [r["code"] for r in rows] == ["A-1", "A-2", "A2-1", "B-1", "C-1"]
