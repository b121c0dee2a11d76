"""The read-only desk pages (`/app/{doctype-slug}/{name}`): the links Provisioner shows for a
sandbox engine open the document, escaped, with no script allowed, and the REST API is unchanged."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import quote

import httpx
from sandbox_helpers import insert, pos_profile

from engine.services.tenant_view import desk_url


def cells(page: httpx.Response) -> dict[str, str]:
    """The page's label → value rows, as text (tags dropped, entities decoded)."""
    rows = re.findall(r"<tr><th>(.*?)</th><td>(.*?)</td></tr>", page.text)
    return {unescape(label): unescape(re.sub(r"<[^>]+>", "", value)) for label, value in rows}


async def test_a_company_link_opens_its_page(guest, acme) -> None:
    page = await guest.get(desk_url("http://sandbox", "Company", "Acme Retail").removeprefix("http://sandbox"))

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<title>Company: Acme Retail</title>" in page.text and "<h1>Company: Acme Retail</h1>" in page.text
    fields = cells(page)
    assert fields["Company"] == "Acme Retail" and fields["Abbr"] == "AR"
    assert fields["Default Currency"] == "USD" and fields["Country"] == "United States"
    assert "script-src" not in page.headers["content-security-policy"]
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


async def test_names_are_found_whatever_the_case_and_links_lead_on(client, guest, acme) -> None:
    await insert(client, "POS Profile", pos_profile())

    page = await guest.get(f"/app/POS-Profile/{quote('ar store 1')}")

    assert page.status_code == 200 and "<h1>POS Profile: AR Store 1</h1>" in page.text
    assert cells(page)["Warehouse"] == "Stores - AR"
    assert f'href="/app/warehouse/{quote("Stores - AR", safe="")}"' in page.text
    assert "<h2>Payments</h2>" in page.text
    assert 'href="/app/mode-of-payment/Cash"' in page.text  # the child table's Link column
    warehouse = await guest.get(f"/app/warehouse/{quote('Stores - AR', safe='')}")
    assert warehouse.status_code == 200 and "<h1>Warehouse: Stores - AR</h1>" in warehouse.text


async def test_every_value_is_escaped(client, guest) -> None:
    name = 'Tom & Jerry\'s "Shop"'
    await insert(client, "Customer", {"customer_name": name, "customer_type": "Company",
                                      "website": "<script>alert(1)</script>"})

    page = await guest.get("/app/customer/" + quote(name, safe=""))

    assert page.status_code == 200, page.text
    assert "<script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<h1>Customer: Tom &amp; Jerry&#x27;s &quot;Shop&quot;</h1>" in page.text


async def test_a_missing_document_or_doctype_is_an_html_404(guest, acme) -> None:
    missing = await guest.get("/app/company/Nobody%20Ltd")
    unknown = await guest.get("/app/sales-invoice/SINV-0001")

    for page in (missing, unknown):
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "<h1>Company Nobody Ltd not found</h1>" in missing.text
    assert "not found" in unknown.text


async def test_a_doctype_page_lists_its_documents(guest, acme, beta) -> None:
    page = await guest.get("/app/company")

    assert page.status_code == 200 and "<h1>Company (2)</h1>" in page.text
    assert 'href="/app/company/Acme%20Retail"' in page.text


async def test_the_desk_writes_nothing_and_is_no_api_traffic(app, client, guest, acme) -> None:
    before = (await client.get("/__sandbox__/stats")).json()
    await client.post("/__sandbox__/faults", json={"offline": True})

    page = await guest.get("/app/company/Acme%20Retail")
    refused = await guest.post("/app/company/Acme%20Retail")

    assert page.status_code == 200 and refused.status_code == 405
    await client.delete("/__sandbox__/faults")
    after = (await client.get("/__sandbox__/stats")).json()
    assert after == before
