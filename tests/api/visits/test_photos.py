"""Photos are decoded and re-encoded (what does not decode is refused, no metadata survives) and served so that
a browser never treats them as anything but an image."""

import io
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.api.visits.helpers import JINAN, check_in
from tests.factories import Org, make_account

HTML = b"<html><script>alert(document.cookie)</script></html>"


def _jpeg(**save: Any) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 100, 20)).save(out, format="JPEG", **save)
    return out.getvalue()


def _with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0131] = "secret-device-serial"  # Software
    exif[0x8825] = {1: "N", 2: (36.0, 39.0, 4.0), 3: "E", 4: (117.0, 7.0, 12.0)}  # GPSInfo
    return _jpeg(exif=exif.tobytes())


async def _visit_url(client: httpx.AsyncClient, org: Org) -> str:
    account = await make_account(org, "rep_a", latitude=JINAN[0], longitude=JINAN[1])
    visit = await check_in(client, org.rep_a, account, JINAN)
    return f"/api/visits/{visit['id']}/photo"


def _put(client: httpx.AsyncClient, org: Org, url: str, content: bytes, kind: str = "image/jpeg") -> Any:
    return client.put(url, content=content, headers={**org.rep_a.headers, "Content-Type": kind})


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xd8\xff\xe0" + HTML,  # a JPEG header, then HTML
        b"\xff\xd8\xff\xe0" + bytes(500) + b"\xff\xd9",  # a header and nothing that decodes
        _jpeg()[:200],  # a photo cut short
    ],
    ids=["header-then-html", "no-image", "truncated"],
)
async def test_what_does_not_decode_is_refused(client: httpx.AsyncClient, org: Org, content: bytes) -> None:
    url = await _visit_url(client, org)
    r = await _put(client, org, url, content)
    assert r.status_code == 422 and r.json()["field"] == "body", r.text
    assert (await client.get(url, headers=org.rep_a.headers)).status_code == 404


async def test_a_photo_with_html_appended_is_stored_without_it(client: httpx.AsyncClient, org: Org) -> None:
    url = await _visit_url(client, org)
    assert (await _put(client, org, url, _jpeg() + HTML)).status_code == 200
    got = await client.get(url, headers=org.rep_a.headers)
    assert b"<script" not in got.content and b"<html" not in got.content
    assert Image.open(io.BytesIO(got.content)).size == (64, 48)


async def test_metadata_is_stripped(client: httpx.AsyncClient, org: Org) -> None:
    original = _with_gps()
    assert Image.open(io.BytesIO(original)).getexif()  # the upload carries EXIF and a GPS position
    url = await _visit_url(client, org)
    assert (await _put(client, org, url, original)).status_code == 200
    got = (await client.get(url, headers=org.rep_a.headers)).content
    assert b"secret-device-serial" not in got and b"PhoneMaker" not in got
    image = Image.open(io.BytesIO(got))
    assert not image.getexif() and "exif" not in image.info


async def test_a_photo_is_served_as_an_image_only(client: httpx.AsyncClient, org: Org) -> None:
    url = await _visit_url(client, org)
    assert (await _put(client, org, url, _jpeg())).status_code == 200
    r = await client.get(url, headers=org.manager_a.headers)
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/jpeg"
    assert r.headers["x-content-type-options"] == "nosniff"
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp
    assert r.headers["content-disposition"].startswith("inline") and ".jpg" in r.headers["content-disposition"]
