"""CSV imports as HQ and billing systems send them: encodings, Chinese headers, bad rows, upserts, dry runs, scope."""

from typing import Any

from fieldcrm.accounts import services as account_services
from fieldcrm.accounts.imports import import_file
from fieldcrm.accounts.segmentation import run_segmentation
from fieldcrm.accounts.tables import Account as AccountRow
from fieldcrm.accounts.tables import Contact as ContactRow
from fieldcrm.accounts.tables import Holding as HoldingRow
from fieldcrm.accounts.tables import Revenue as RevenueRow
from tests.factories import make_account

ACCOUNTS_ZH = (
    "客户编码,客户名称,行业,客户经理,地址,城市,纬度,经度,状态,上级集团编码,成员数,备注\n"
    "JN-STEEL-01,济南钢铁集团第一分公司,制造业,rep_a,济南市历城区工业北路21号,济南,36.68,117.06,在网,JN-STEEL,120,\n"
    "JN-STEEL,济南钢铁集团,制造业,rep_a,济南市历城区工业北路21号,济南,36.68,117.06,预警,,3000,重点客户\n"
    "QL-PHARMA,齐鲁制药,医药,rep_b,,济南,,,潜在,,,\n"
)


async def _post(
    client: Any,
    person: Any,
    kind: str,
    body: bytes | str,
    *,
    encoding: str = "auto",
    dry_run: bool = False,
    skip_invalid: bool = False,
) -> Any:
    data = body.encode("utf-8") if isinstance(body, str) else body
    params = {
        "kind": kind,
        "dryRun": str(dry_run).lower(),
        "skipInvalid": str(skip_invalid).lower(),
        "encoding": encoding,
    }
    return await client.post(
        "/api/imports", params=params, content=data, headers={**person.headers, "Content-Type": "text/csv"}
    )


async def _accounts(client: Any, person: Any, **params: Any) -> dict[str, dict[str, Any]]:
    r = await client.get("/api/accounts", params={"limit": 100, **params}, headers=person.headers)
    assert r.status_code == 200, r.text
    return {a["code"]: a for a in r.json()["items"]}


async def test_accounts_in_utf8_with_bom_and_chinese_headers(client, org) -> None:
    r = await _post(client, org.hq, "accounts", "\ufeff" + ACCOUNTS_ZH)
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["applied"], report["rows"], report["created"], report["updated"]) == (True, 3, 3, 0)
    assert report["errors"] == []
    assert report["segmentation"]["accounts"] == 3
    accounts = await _accounts(client, org.hq)
    member, group, pharma = accounts["JN-STEEL-01"], accounts["JN-STEEL"], accounts["QL-PHARMA"]
    assert group["name"] == "济南钢铁集团"
    assert (member["status"], group["status"], pharma["status"]) == ("active", "at_risk", "prospect")
    assert member["parentId"] == group["id"]  # the group came after its member in the file
    assert (group["memberLines"], group["latitude"], group["longitude"]) == (3000, 36.68, 117.06)
    assert member["ownerId"] == str(org.rep_a.id)
    assert pharma["orgUnitId"] == str(org.units["team_b"])  # the owner's unit
    assert pharma["tier"] == "C"  # segmented in the same request
    found = await _accounts(client, org.hq, q="钢铁")
    assert set(found) == {"JN-STEEL", "JN-STEEL-01"}
    trail = (await client.get(f"/api/accounts/{group['id']}/audit", headers=org.hq.headers)).json()
    assert [e["action"] for e in trail["items"]].count("import") == 1


async def test_gbk_contacts_with_chinese_roles_and_phones(client, org) -> None:
    account_id = await make_account(org, code="QL-01", name="齐鲁制药")
    csv_text = (
        "客户编码,联系人,职务,手机,邮箱,角色,备注\n"
        "QL-01,王建国,信息中心主任,138 0000 1111;0531-8888 6666,wangjg@qilu.example,决策人,每周三在厂区\n"
        "QL-01,李娜,采购经理,13900002222/13900003333,,把关人,\n"
    )
    r = await _post(client, org.hq, "contacts", csv_text.encode("gbk"))
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["errors"]) == (2, [])
    contacts = (await client.get(f"/api/accounts/{account_id}/contacts", headers=org.hq.headers)).json()["items"]
    by_name = {c["name"]: c for c in contacts}
    assert by_name["王建国"]["phones"] == ["138 0000 1111", "0531-8888 6666"]
    assert by_name["王建国"]["decisionRole"] == "decision_maker"
    assert by_name["李娜"]["phones"] == ["13900002222", "13900003333"]
    assert by_name["李娜"]["decisionRole"] == "gatekeeper"
    assert set(await _accounts(client, org.hq, q="王建国")) == {"QL-01"}  # contact names are searchable

    # The same file again, one title changed: an upsert by (account, name).
    again = csv_text.replace("采购经理", "采购总监").encode("gbk")
    r = await _post(client, org.hq, "contacts", again, encoding="gbk")
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["updated"], r.json()["unchanged"]) == (0, 1, 1)
    assert await ContactRow.count().where(ContactRow.account == account_id) == 2


async def test_gbk_revenue_in_yuan_with_billing_months(client, org) -> None:
    big = await make_account(org, code="REV-1")
    small = await make_account(org, code="REV-2")
    csv_text = '集团编码,月份,收入(元)\nREV-1,202609,"1,234.50"\nREV-1,2026-10,8000\nREV-2,2026/10/01,99.99\n'
    r = await _post(client, org.hq, "revenue", csv_text.encode("gbk"))
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["created"], report["errors"]) == (3, [])
    assert report["segmentation"]["windowEnd"] == "2026-10"
    months = {
        m["month"]: m["amountCents"]
        for m in (await client.get(f"/api/accounts/{big}/revenue", headers=org.hq.headers)).json()
    }
    assert (months["2026-09"], months["2026-10"]) == (123450, 800000)
    accounts = await _accounts(client, org.hq)
    assert (accounts["REV-1"]["tier"], accounts["REV-2"]["tier"]) == ("A", "C")  # REV-1 alone makes 98.9%
    assert accounts["REV-1"]["revenue12MCents"] == 923450
    # The billing system corrects one month: the row is replaced, not added.
    r = await _post(client, org.hq, "revenue", "account_code,month,amount\nREV-2,2026-10,100\n")
    assert (r.json()["updated"], r.json()["created"]) == (1, 0)
    assert await RevenueRow.count().where(RevenueRow.account == small) == 1


async def test_holdings_upsert_by_product_code(client, org) -> None:
    account_id = await make_account(org, code="H-1")
    csv_text = (
        "客户编码,产品编码,产品名称,数量,月费(元),合同开始,合同结束\n"
        'H-1,DL-100M,互联网专线 100M,2,"3,500.00",2025/01/01,2027/12/31\n'
        "H-1,,云桌面,50,40,2026-01-01,2026-12-31\n"
    )
    r = await _post(client, org.hq, "holdings", csv_text)
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 2
    r = await _post(client, org.hq, "holdings", csv_text.replace('"3,500.00"', "3600.5").replace(",50,", ",60,"))
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["updated"]) == (0, 2)
    holdings = (await client.get(f"/api/accounts/{account_id}/holdings", headers=org.hq.headers)).json()["items"]
    by_product = {h["product"]: h for h in holdings}
    assert by_product["互联网专线 100M"]["monthlyFeeCents"] == 360050
    assert by_product["互联网专线 100M"]["contractEnd"] == "2027-12-31"
    assert by_product["云桌面"]["quantity"] == 60
    r = await _post(
        client,
        org.hq,
        "holdings",
        "account_code,product,contract_start,contract_end\nH-1,云桌面,2026-05-01,2026-04-30\n",
    )
    assert r.status_code == 422
    assert r.json()["report"]["errors"][0]["column"] == "contract_end"


async def test_bad_rows_are_reported_by_line_and_column_and_nothing_is_written(client, org) -> None:
    csv_text = (
        "code,name,owner,latitude,longitude,status,visit_radius_m\n"  # line 1
        "OK-1,Fine Co,rep_a,36.6,117.0,active,300\n"  # line 2
        'BAD-1,"Notes span\n'  # line 3: a quoted line break
        'two lines",rep_a,100,117.0,active,300\n'  # line 4
        "BAD-2,Status Co,rep_a,,,sleeping,5\n"  # line 5
        "BAD-3,No Owner Co,nobody,,,,\n"  # line 6
        "BAD-4,,rep_a,36.6,,,\n"  # line 7
        "bad code!,Code Co,rep_a,,,,\n"  # line 8
    )
    r = await _post(client, org.hq, "accounts", csv_text)
    assert r.status_code == 422, r.text
    body = r.json()
    assert "nothing was imported" in body["detail"]
    report = body["report"]
    assert (report["applied"], report["rows"], report["skipped"], report["created"]) == (False, 6, 5, 1)
    errors = {(e["line"], e["column"]) for e in report["errors"]}
    assert errors == {
        (3, "latitude"),
        (5, "status"),
        (5, "visit_radius_m"),
        (6, "owner"),
        (7, "name"),
        (7, "longitude"),
        (8, "code"),
    }
    messages = {(e["line"], e["column"]): e["message"] for e in report["errors"]}
    assert "at most 90" in messages[(3, "latitude")]
    assert "prospect, active, at_risk or lost" in messages[(5, "status")]
    assert "at least 10" in messages[(5, "visit_radius_m")]
    assert await AccountRow.count() == 0


async def test_skip_invalid_applies_only_the_good_rows(client, org) -> None:
    csv_text = "code,name,owner\nS-1,Good One,rep_a\nS-2,Bad Owner,nobody\nS-3,Good Two,rep_b\n"
    r = await _post(client, org.hq, "accounts", csv_text, skip_invalid=True)
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["applied"], report["created"], report["skipped"]) == (True, 2, 1)
    assert report["errors"] == [{"line": 3, "column": "owner", "message": "nobody: no active user has this username"}]
    assert set(await _accounts(client, org.hq)) == {"S-1", "S-3"}


async def test_a_member_of_a_skipped_group_is_skipped_too(client, org) -> None:
    csv_text = "code,name,owner,parent_code\nG-1,,rep_a,\nM-1,Member,rep_a,G-1\nM-2,Other,rep_a,\n"
    r = await _post(client, org.hq, "accounts", csv_text, skip_invalid=True)
    report = r.json()
    assert {(e["line"], e["column"]) for e in report["errors"]} == {(2, "name"), (3, "parent_code")}
    assert set(await _accounts(client, org.hq)) == {"M-2"}


async def test_duplicate_code_within_the_file(client, org) -> None:
    csv_text = "code,name,owner\nD-1,First,rep_a\nD-2,Other,rep_a\nD-1,Second,rep_a\n"
    r = await _post(client, org.hq, "accounts", csv_text)
    assert r.status_code == 422, r.text
    errors = r.json()["report"]["errors"]
    assert errors == [{"line": 4, "column": "code", "message": "D-1: this code is already on line 2"}]
    assert await AccountRow.count() == 0


async def test_upsert_updates_an_existing_account_and_restores_a_deleted_one(client, org) -> None:
    kept = await make_account(org, "rep_a", code="U-1", name="Old Name", city="济南")
    deleted = await make_account(org, "rep_a", code="U-2", name="Gone Co")
    await account_services.delete_account(actor=await org.actor("hq"), account_id=deleted)
    await run_segmentation(actor=None)  # tiers in place, so the import's own recomputation changes nothing
    version = (await client.get(f"/api/accounts/{kept}", headers=org.hq.headers)).json()["version"]
    csv_text = "code,name,owner\nU-1,New Name,rep_b\nU-2,Gone Co,\n"  # no city column: the city stays
    r = await _post(client, org.hq, "accounts", csv_text)
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["updated"]) == (0, 2)
    account = (await client.get(f"/api/accounts/{kept}", headers=org.hq.headers)).json()
    assert (account["name"], account["ownerId"], account["city"]) == ("New Name", str(org.rep_b.id), "济南")
    assert account["version"] == version + 1
    assert account["orgUnitId"] == str(org.units["team_a"])  # as in the REST API, a new owner keeps the unit
    assert set(await _accounts(client, org.hq, q="new name")) == {"U-1"}  # search text follows the name
    assert (await client.get(f"/api/accounts/{deleted}", headers=org.hq.headers)).status_code == 200
    trail = (await client.get(f"/api/accounts/{kept}/audit", headers=org.hq.headers)).json()["items"]
    imported = next(e for e in trail if e["action"] == "import")
    assert imported["changes"]["name"] == ["Old Name", "New Name"]
    assert imported["actorName"] == "Hq"


async def test_dry_run_writes_nothing(client, org) -> None:
    existing = await make_account(org, code="DRY-1", name="Before")
    csv_text = "code,name,owner\nDRY-1,After,rep_a\nDRY-2,New Co,rep_a\n"
    r = await _post(client, org.hq, "accounts", csv_text, dry_run=True)
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["dryRun"], report["applied"], report["created"], report["updated"]) == (True, False, 1, 1)
    assert (await client.get(f"/api/accounts/{existing}", headers=org.hq.headers)).json()["name"] == "Before"
    assert await AccountRow.count() == 1
    r = await _post(client, org.hq, "accounts", csv_text + "DRY-3,,rep_a\n", dry_run=True)
    assert r.status_code == 422
    assert r.json()["report"]["errors"][0]["line"] == 4


async def test_only_hq_imports(client, org) -> None:
    for person in (org.rep_a, org.manager_a, org.director):
        r = await _post(client, person, "accounts", "code,name,owner\nX-1,X,rep_a\n")
        assert r.status_code == 403, r.text
    assert await AccountRow.count() == 0


async def test_multipart_upload(client, org) -> None:
    await make_account(org, code="MP-1")
    files = {"file": ("revenue.csv", b"account_code,month,amount\nMP-1,2026-10,10.00\n", "text/csv")}
    r = await client.post("/api/imports", params={"kind": "revenue"}, files=files, headers=org.hq.headers)
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 1


async def test_malformed_files(client, org) -> None:
    r = await _post(client, org.hq, "accounts", 'code,name,owner\nM-1,"Unclosed "quote" here,rep_a\n')
    assert r.status_code == 400, r.text
    assert "line 2" in r.json()["detail"]
    r = await _post(client, org.hq, "accounts", "客户编码,客户名称\nX,济南\n".encode("gbk"), encoding="utf-8")
    assert r.status_code == 400
    assert "encoding=gbk" in r.json()["detail"]
    r = await _post(client, org.hq, "accounts", "")
    assert r.status_code == 400
    r = await _post(client, org.hq, "revenue", "客户编码,金额\nX,1\n")
    assert r.status_code == 422
    assert "month" in r.json()["detail"]
    r = await _post(client, org.hq, "accounts", "客户名称,客户ID\nX,1\n")
    assert r.status_code == 422
    assert "not recognised: 客户ID" in r.json()["detail"]
    r = await _post(client, org.hq, "holdings", "account_code,product\n", encoding="latin-1")
    assert r.status_code == 400


async def test_extra_columns_are_ignored_with_a_warning(client, org) -> None:
    r = await _post(client, org.hq, "accounts", "code,name,owner,客户等级,fax\nW-1,W Co,rep_a,VIP,123\n")
    assert r.status_code == 200, r.text
    assert r.json()["warnings"] == ["columns not imported: 客户等级, fax"]


async def test_cli_import_file_reports_instead_of_raising(org, tmp_path) -> None:
    path = tmp_path / "accounts.csv"
    path.write_bytes("客户编码,客户名称,客户经理\nCLI-1,命令行客户,rep_a\nCLI-2,,rep_a\n".encode("gb18030"))
    report = await import_file(path=path, kind="accounts", dry_run=False, skip_invalid=False, encoding="auto")
    assert (report.applied, report.created, report.skipped) == (False, 1, 1)
    assert report.errors[0].column == "客户名称"
    report = await import_file(path=str(path), kind="accounts", dry_run=False, skip_invalid=True, encoding="gbk")
    assert (report.applied, report.created) == (True, 1)
    assert await AccountRow.count() == 1


async def test_ten_thousand_accounts_import_in_one_request(client, org) -> None:
    lines = ["code,name,owner,city,status"]
    lines += [f"BULK-{i:05d},批量客户{i},rep_{'a' if i % 2 else 'b'},济南,在网" for i in range(10_000)]
    r = await _post(client, org.hq, "accounts", "\n".join(lines))
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 10_000
    assert await AccountRow.count() == 10_000
    assert await HoldingRow.count() == 0


async def test_imports_accept_files_larger_than_the_api_body_limit(client, org) -> None:
    notes = "客户备注" * 150  # 1,800 bytes a line in UTF-8
    lines = ["code,name,owner,notes"] + [f"BIG-{i:04d},Big {i},rep_a,{notes}" for i in range(800)]
    body = "\n".join(lines).encode()
    assert len(body) > 1024 * 1024  # the limit of every other route
    r = await _post(client, org.hq, "accounts", body, dry_run=True)
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 800
    r = await client.post("/api/accounts", content=body, headers={**org.hq.headers, "Content-Type": "application/json"})
    assert r.status_code == 413
