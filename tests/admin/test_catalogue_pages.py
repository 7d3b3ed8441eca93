"""The catalogue in the console: every signed-in role reads it, filters it by department on the
server, and downloads exactly what ``hub catalogue export`` writes."""

from __future__ import annotations

import dataclasses
import html
import re
from pathlib import Path

import pytest

from hub.catalogue import Catalogue, load_catalogue, to_csv, to_json
from hub.fairuse.catalogue import fair_use_section
from tests.admin.conftest import PEOPLE, Console, sqlite_url

PATHS = ("/admin/catalogue", "/admin/catalogue.json", "/admin/catalogue.csv")


@pytest.fixture
def console_url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path)


def hub_catalogue(console: Console) -> Catalogue:
    """The catalogue as the CLI generates it, from the hub's own policy and binding directories."""
    settings = console.app.state.hub.settings
    return load_catalogue(settings.policies_dir, settings.bindings_dir)


async def exported(console: Console) -> Catalogue:
    """As ``hub catalogue export`` writes it: with the registry's limits and quotas."""
    fair_use = fair_use_section(console.app.state.hub.settings.fair_use, await console.registry.clients())
    return dataclasses.replace(hub_catalogue(console), fair_use=fair_use)


def resources_shown(page: str) -> set[str]:
    return set(re.findall(r'id="resource-(\w+)"', page))


async def test_signed_out_the_catalogue_and_its_exports_lead_to_the_sign_in_page(console: Console) -> None:
    stranger = console.person()
    for path in PATHS:
        response = await stranger.http.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/admin/signin?next=")


@pytest.mark.parametrize("username", sorted(PEOPLE))
async def test_every_role_reads_the_catalogue_and_finds_it_in_the_navigation(console: Console, username: str) -> None:
    person = await console.signed_in(username)
    page = await person.http.get("/admin/catalogue")
    assert page.status_code == 200
    assert '<a href="/admin/catalogue">Catalogue</a>' in page.text
    assert resources_shown(page.text) == {r.name for r in hub_catalogue(console).resources}
    for path in PATHS[1:]:
        assert (await person.http.get(path)).status_code == 200


async def test_the_json_download_is_the_catalogue_export_byte_for_byte(console: Console) -> None:
    dev = await console.signed_in("dev")
    response = await dev.http.get("/admin/catalogue.json")
    assert response.headers["content-disposition"] == 'attachment; filename="catalogue.json"'
    assert response.headers["content-type"] == "application/json"
    assert response.content == to_json(await exported(console))


async def test_the_csv_download_is_the_catalogue_export_byte_for_byte(console: Console) -> None:
    mei = await console.signed_in("mei")
    response = await mei.http.get("/admin/catalogue.csv")
    assert response.headers["content-disposition"] == 'attachment; filename="catalogue.csv"'
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content == to_csv(hub_catalogue(console)).encode("utf-8")
    assert "市场监督管理局" in response.content.decode("utf-8")


async def test_a_department_filter_shows_only_that_departments_resources(console: Console) -> None:
    catalogue = hub_catalogue(console)
    ada = await console.signed_in("ada")
    for department in catalogue.departments:
        page = await ada.http.get("/admin/catalogue", params={"department": department.id})
        assert page.status_code == 200
        owned = {r.name for r in catalogue.resources if r.department == department.id}
        assert owned and resources_shown(page.text) == owned
        assert department.title_local in page.text


async def test_each_field_shows_its_sharing_scope_mask_and_purposes_and_its_resource_the_owner_and_cycle(
    console: Console,
) -> None:
    catalogue = hub_catalogue(console)
    masked = next(f for f in catalogue.fields() if f.mask is not None and f.purposes)
    resource = next(r for r in catalogue.resources if r.name == masked.resource)
    olga = await console.signed_in("olga")
    page = (await olga.http.get("/admin/catalogue", params={"department": masked.department})).text
    section = page.split(f'id="resource-{resource.name}"')[1].split("</section>")[0]
    row = section.split(f'id="field-{masked.resource}-{masked.graphql_name}"')[1].split("</tr>")[0]
    assert masked.mask is not None and masked.mask.name in row and masked.mask.kind in row
    assert masked.sharing.replace("_", " ") in row and str(masked.scope) in row
    assert ", ".join(masked.purposes) in row
    assert f"<dd>{resource.update_cycle or 'not declared'}</dd>" in section
    assert catalogue.department(resource.department).title in section


@pytest.mark.parametrize("department", ["nowhere", "<script>alert(1)</script>", "m" * 500])
async def test_an_unknown_department_is_answered_with_a_message_not_an_empty_or_broken_page(
    console: Console, department: str
) -> None:
    ada = await console.signed_in("ada")
    page = await ada.http.get("/admin/catalogue", params={"department": department})
    assert page.status_code == 400
    assert "There is no department" in page.text and "choose one from the list" in page.text
    assert "<script>alert" not in page.text and resources_shown(page.text) == set()


async def test_an_unknown_export_format_is_not_found(console: Console) -> None:
    dev = await console.signed_in("dev")
    for path in ("/admin/catalogue.xml", "/admin/catalogue.json.csv"):
        response = await dev.http.get(path)
        assert response.status_code == 404 and "no such export" in html.unescape(response.text)


async def test_nothing_on_the_catalogue_pages_can_be_changed(console: Console) -> None:
    """The pages answer GET only: a form posted to them, with CSRF or without, by any role, is refused."""
    before = to_json(await exported(console))
    ada, olga = await console.signed_in("ada"), await console.signed_in("olga")
    for path in PATHS:
        for person in (ada, olga):
            assert (await person.form(path, {"department": "market"})).status_code == 405
            assert (await person.http.post(path, data={"department": "market"})).status_code == 405
        assert (await console.person().http.post(path)).status_code == 303  # signed out: sign in first
    assert (await olga.http.get("/admin/catalogue.json")).content == before


def test_the_catalogues_texts_are_listed_for_translation() -> None:
    """What the schema and policies say of the data is shown in Chinese from the console's catalogue:
    the list ``make messages`` reads must be the running catalogue's (test_i18n checks each has
    its translation)."""
    from hub.admin import catalogue_texts

    assert list(catalogue_texts.TEXTS) == catalogue_texts.current(), "run python -m hub.admin.catalogue_texts"
