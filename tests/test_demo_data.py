"""The demo data generator: valid identifiers, resolving references, coherent dates, determinism."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from hub.demo.generate import generate
from hub.demo.tables import DEPARTMENT_METADATA
from hub.identifiers.division import DEMO_COUNTIES, validate_division_code
from hub.identifiers.id_number import validate_id_number
from hub.identifiers.licence_numbers import LicenceKind, licence_kind_of
from hub.identifiers.uscc import organisation_code_ok, validate_uscc
from tests.conftest import DEMO_AS_OF

AS_OF = DEMO_AS_OF.isoformat()
DEPARTMENT_OF = {table: dept for dept, md in DEPARTMENT_METADATA.items() for table in md.tables}
LICENCE_TABLES = {
    "food_licences": "number", "construction_permits": "permit_no", "discharge_permits": "permit_number",
}
# Dates that may lie ahead of the reference date: validity ends, business terms, promised dates.
FUTURE_ALLOWED = {"valid_to", "term_to", "promised_date", "id_valid_to"}


def read(data_dir: Path, table: str) -> list[dict[str, object]]:
    with sqlite3.connect(data_dir / f"{DEPARTMENT_OF[table]}.sqlite") as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(f"SELECT * FROM {table} ORDER BY rowid")]


def dump(data_dir: Path) -> dict[str, list[dict[str, object]]]:
    return {table: read(data_dir, table) for table in DEPARTMENT_OF}


def day(value: object) -> dt.date:
    return dt.date.fromisoformat(str(value))


def test_every_uscc_passes_the_validator_and_the_organisation_code_check(demo_data_dir: Path) -> None:
    enterprises = read(demo_data_dir, "enterprises")
    assert len({e["uscc"] for e in enterprises}) == len(enterprises) == 300
    for e in enterprises:
        assert validate_uscc(str(e["uscc"])) == e["uscc"]
        assert organisation_code_ok(str(e["uscc"])), e["uscc"]
        assert str(e["uscc"])[:2] in ("91", "92", "93")
        assert e["region_code"] == str(e["uscc"])[2:8]
    for licence in read(demo_data_dir, "food_licences"):
        assert str(validate_uscc(str(licence["issuer_code"]))).startswith("11")
    assert {str(e["uscc"])[:2] for e in enterprises} == {"91", "92", "93"}


def test_every_id_number_passes_the_validator_with_sex_and_birth_date_matching(demo_data_dir: Path) -> None:
    for person in read(demo_data_dir, "persons"):
        validate_id_number(str(person["id_number"]), today=DEMO_AS_OF)
        assert person["id_type"] == "居民身份证"
        mobile = str(person["mobile"])
        assert len(mobile) == 11 and mobile.isdigit() and mobile[:2] in ("13", "15", "17", "18", "19")
    for resident in read(demo_data_dir, "population"):
        number = validate_id_number(str(resident["id_number"]), today=DEMO_AS_OF)
        assert resident["sex"] == ("M" if int(number[16]) % 2 else "F")
        assert resident["birth_date"] == f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
        assert resident["address_code"] == number[:6]


def test_every_licence_number_is_valid_and_of_its_own_kind(demo_data_dir: Path) -> None:
    for licence in read(demo_data_dir, "food_licences"):
        assert licence_kind_of(str(licence["number"])) is LicenceKind.FOOD_BUSINESS
        assert str(licence["number"])[3:9] == licence["region_code"]
    for permit in read(demo_data_dir, "construction_permits"):
        number = str(permit["permit_no"])
        assert licence_kind_of(number) is LicenceKind.CONSTRUCTION
        assert number[:6] == permit["region_code"]
        assert number[6:14] == str(permit["issue_date"]).replace("-", "")
    for permit in read(demo_data_dir, "discharge_permits"):
        number = str(permit["permit_number"])
        assert licence_kind_of(number) is LicenceKind.POLLUTANT_DISCHARGE
        assert number == f"{permit['holder_uscc']}{permit['site_number']}P"
    for table, key in LICENCE_TABLES.items():
        numbers = [row[key] for row in read(demo_data_dir, table)]
        assert len(numbers) == len(set(numbers)), table


def test_every_region_code_is_a_tangshan_county_in_the_division_table(demo_data_dir: Path) -> None:
    for table in ("enterprises", "food_licences", "construction_permits", "discharge_permits", "cases"):
        for row in read(demo_data_dir, table):
            assert validate_division_code(str(row["region_code"])) in DEMO_COUNTIES, table


def test_every_licence_holder_is_a_registered_enterprise_under_its_registered_name(
    demo_data_dir: Path,
) -> None:
    names = {e["uscc"]: e["name"] for e in read(demo_data_dir, "enterprises")}
    holders = [(r["holder_uscc"], r["holder_name"]) for r in read(demo_data_dir, "food_licences")]
    holders += [(r["holder_uscc"], r["holder_name"]) for r in read(demo_data_dir, "discharge_permits")]
    holders += [(r["builder_uscc"], r["builder_name"]) for r in read(demo_data_dir, "construction_permits")]
    holders += [(r["uscc"], r["taxpayer_name"]) for r in read(demo_data_dir, "tax_registrations")]
    for code, name in holders:
        assert names[code] == name
    assert all(row["uscc"] in names for row in read(demo_data_dir, "abnormal_operations"))


def test_every_legal_representative_is_a_recorded_person(demo_data_dir: Path) -> None:
    persons = {p["id_number"] for p in read(demo_data_dir, "persons")}
    reps = [e["legal_rep_id"] for e in read(demo_data_dir, "enterprises")]
    assert set(reps) == persons
    assert max(reps.count(rep) for rep in persons) <= 3
    assert len(persons) < len(reps), "some people represent more than one enterprise"


def test_the_population_register_covers_every_person_and_some_names_differ(demo_data_dir: Path) -> None:
    registered = {r["id_number"]: r["name"] for r in read(demo_data_dir, "population")}
    persons = read(demo_data_dir, "persons")
    assert all(p["id_number"] in registered for p in persons)
    assert len(registered) > len(persons)
    renamed = sum(registered[p["id_number"]] != p["name"] for p in persons)
    assert 0 < renamed < len(persons) * 0.06


def test_every_granted_case_names_an_existing_licence_of_its_kind_held_by_the_applicant(
    demo_data_dir: Path,
) -> None:
    matters = {m["code"]: m["result_type"] for m in read(demo_data_dir, "service_matters")}
    food = read(demo_data_dir, "food_licences")
    construction = read(demo_data_dir, "construction_permits")
    discharge = read(demo_data_dir, "discharge_permits")
    holders = {
        "food_licence": {r["number"]: r["holder_uscc"] for r in food},
        "construction_permit": {r["permit_no"]: r["builder_uscc"] for r in construction},
        "discharge_permit": {r["permit_number"]: r["holder_uscc"] for r in discharge},
    }
    linked = 0
    for case in read(demo_data_dir, "cases"):
        kind = matters[case["matter_code"]]
        if kind in holders and case["result_type"] == "grant":
            assert holders[kind][case["licence_number"]] == case["applicant_id"]
            linked += 1
        else:
            assert case["licence_number"] is None
    assert linked > 100


def test_food_licences_point_back_at_the_case_that_issued_them(demo_data_dir: Path) -> None:
    cases = {c["number"]: c for c in read(demo_data_dir, "cases")}
    licences = read(demo_data_dir, "food_licences")
    sourced = [licence for licence in licences if licence["source_case"]]
    assert 0.2 < len(sourced) / len(licences) < 0.4
    for licence in sourced:
        case = cases[licence["source_case"]]
        assert case["licence_number"] == licence["number"]
        assert case["result_date"] == licence["issue_date"]
    numbers = {licence["number"] for licence in licences}
    assert all(licence["related_number"] in numbers for licence in licences if licence["related_number"])


def test_every_stage_belongs_to_a_case_and_begins_when_the_one_before_ends(demo_data_dir: Path) -> None:
    cases = {c["number"]: c for c in read(demo_data_dir, "cases")}
    stages: dict[object, list[dict[str, object]]] = {}
    for stage in read(demo_data_dir, "case_stages"):
        stages.setdefault(stage["case_number"], []).append(stage)
    assert set(stages) == set(cases)
    for number, path in stages.items():
        assert [s["seq"] for s in path] == list(range(1, len(path) + 1))
        assert path[0]["stage"] == "application"
        assert all(before["ended_at"] == after["started_at"] for before, after in itertools.pairwise(path))
        times = [t for s in path for t in (s["started_at"], s["ended_at"]) if t is not None]
        assert times == sorted(times) and all("09:00:00" <= str(t)[11:] <= "17:30:00" for t in times)
        still_open = cases[number]["status"] not in ("completed", "refused", "withdrawn")
        assert [s["ended_at"] is None for s in path] == [False] * (len(path) - 1) + [still_open]


def test_cases_keep_the_statutory_clock(demo_data_dir: Path) -> None:
    limits = {m["code"]: m["promised_limit_days"] for m in read(demo_data_dir, "service_matters")}
    for case in read(demo_data_dir, "cases"):
        assert len(str(case["number"])) <= 24 and str(case["number"]).startswith("SC")
        if case["accept_date"] is None:
            continue
        accepted = day(case["accept_date"])
        assert 0 <= (accepted - day(case["apply_date"])).days <= 5
        assert day(case["promised_date"]) == accepted + dt.timedelta(days=limits[case["matter_code"]])
        if case["result_date"] is not None:
            assert 0 <= (day(case["result_date"]) - accepted).days <= 20


def test_cases_cover_every_status_and_both_kinds_of_applicant(demo_data_dir: Path) -> None:
    cases = read(demo_data_dir, "cases")
    assert {c["status"] for c in cases} >= {"submitted", "in_review", "completed", "refused", "withdrawn"}
    undecided = [c for c in cases if c["status"] in ("submitted", "accepted", "in_review")]
    assert all(c["result_type"] is None and c["result_date"] is None for c in undecided)
    applicants = {(c["applicant_type"], c["applicant_id_type"]) for c in cases}
    assert applicants == {("enterprise", "USCC"), ("person", "ID")}
    people = {r["id_number"] for r in read(demo_data_dir, "population")}
    assert all(c["applicant_id"] in people for c in cases if c["applicant_type"] == "person")


def test_licence_dates_are_coherent_and_expired_exactly_when_past_their_validity(demo_data_dir: Path) -> None:
    for table in LICENCE_TABLES:
        for licence in read(demo_data_dir, table):
            assert licence["issue_date"] == licence["valid_from"] <= AS_OF
            if licence["valid_to"] is None:
                assert licence["status"] != "过期"
                continue
            assert licence["valid_from"] <= licence["valid_to"]
            assert (licence["status"] == "过期") == (str(licence["valid_to"]) < AS_OF), licence


def test_nothing_is_dated_after_the_reference_date_except_validity_ends(demo_data_dir: Path) -> None:
    for table, rows in dump(demo_data_dir).items():
        for row in rows:
            for column, value in row.items():
                dated = column.endswith(("_date", "_from", "_to", "_at")) and value is not None
                if dated and column not in FUTURE_ALLOWED:
                    assert str(value)[:10] <= AS_OF, (table, column, value)


def test_some_food_licences_expire_within_thirty_days(demo_data_dir: Path) -> None:
    soon = (DEMO_AS_OF + dt.timedelta(days=30)).isoformat()
    expiring = [r for r in read(demo_data_dir, "food_licences") if AS_OF <= str(r["valid_to"]) <= soon]
    assert len(expiring) >= 5


def test_generation_is_deterministic_for_a_seed_and_differs_for_another(tmp_path: Path) -> None:
    as_of = dt.date(2026, 3, 1)
    first = generate(tmp_path / "a", seed=7, enterprises=120, as_of=as_of)
    second = generate(tmp_path / "b", seed=7, enterprises=120, as_of=as_of)
    other = generate(tmp_path / "c", seed=8, enterprises=120, as_of=as_of)
    assert first == second
    assert dump(tmp_path / "a") == dump(tmp_path / "b")
    assert dump(tmp_path / "a") != dump(tmp_path / "c")
    assert other["enterprises"] == 120


def test_files_are_byte_identical_whatever_the_python_hash_seed(tmp_path: Path) -> None:
    # Set and dict iteration orders follow the hash seed; nothing in the output may depend on them.
    script = (
        "import datetime, pathlib, sys; from hub.demo.generate import generate; "
        "generate(pathlib.Path(sys.argv[1]), seed=5, enterprises=60, as_of=datetime.date(2026, 1, 31))"
    )
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", script, str(tmp_path / hash_seed)], check=True, env=env)
    for department in DEPARTMENT_METADATA:
        name = f"{department}.sqlite"
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes(), name


def test_generating_again_replaces_the_files_and_counts_match_the_tables(tmp_path: Path) -> None:
    generate(tmp_path, seed=1, enterprises=80, as_of=DEMO_AS_OF)
    counts = generate(tmp_path, seed=1, enterprises=40, as_of=DEMO_AS_OF)
    assert counts == {table: len(rows) for table, rows in dump(tmp_path).items()}
    assert counts["enterprises"] == 40
    expected = sorted(f"{department}.sqlite" for department in DEPARTMENT_METADATA)
    assert sorted(path.name for path in tmp_path.iterdir()) == expected


def test_five_thousand_enterprises_give_at_least_fifteen_thousand_licences(tmp_path: Path) -> None:
    counts = generate(tmp_path, enterprises=5000, as_of=DEMO_AS_OF)
    assert counts["enterprises"] == 5000
    licences = counts["food_licences"] + counts["construction_permits"] + counts["discharge_permits"]
    assert licences >= 15000
    soon = (DEMO_AS_OF + dt.timedelta(days=90)).isoformat()
    expiring = [r for r in read(tmp_path, "food_licences") if AS_OF <= str(r["valid_to"]) <= soon]
    assert len(expiring) >= 200
