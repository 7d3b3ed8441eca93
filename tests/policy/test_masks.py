"""Named maskers (docs/architecture.md, masking): the documented patterns, configured, on awkward input."""

from __future__ import annotations

import pytest

from hub.policy.masks import (
    MaskConfigError,
    address_to_district,
    amount_band,
    build_mask,
    date_to_year,
    mask_name,
)

MALFORMED = [None, "", " ", "x", 0, 3.5, True, ["list"], {"a": 1}, "１２３", "\x00", "💥" * 40]


def test_masked_id_number_keeps_region_and_check_digit() -> None:
    assert build_mask("id_number")("11010519491231002X") == "110105********002X"


def test_masked_mobile_keeps_prefix_and_last_four() -> None:
    assert build_mask("mobile")("13812345678") == "138****5678"


def test_masked_name_keeps_the_surname_only() -> None:
    assert build_mask("name")("张三") == "张*"
    assert mask_name("张三丰") == "张*"


def test_masked_name_keeps_a_two_character_surname_whole() -> None:
    assert mask_name("欧阳娜娜") == "欧阳*"
    assert mask_name("司马相如") == "司马*"


def test_a_two_character_name_is_surname_and_given_name_even_when_it_spells_a_compound_surname() -> None:
    assert mask_name("欧阳") == "欧*"


def test_a_non_chinese_name_keeps_its_first_character_only() -> None:
    assert mask_name("John Smith") == "J*"
    assert mask_name("买买提·艾力") == "买*"


def test_a_one_character_name_is_starred_whole() -> None:
    assert mask_name("张") == "*"


def test_address_generalises_to_its_county_level_division() -> None:
    mask = build_mask("address_to_district")
    assert mask("河北省唐山市路南区XX路NN号") == "河北省唐山市路南区"
    assert mask("唐山市曹妃甸区工业区3号") == "河北省唐山市曹妃甸区"


def test_address_naming_no_known_county_generalises_to_what_it_does_name_or_nothing() -> None:
    assert address_to_district("河北省石家庄市某区某路1号") == "河北省石家庄市"
    assert address_to_district("北京市朝阳区建国路1号") == "北京市"
    assert address_to_district("某某路1号") is None


def test_date_generalises_to_its_year() -> None:
    assert date_to_year("1949-12-31") == "1949"
    assert date_to_year("2026-11-26T15:00:00") == "2026"
    assert date_to_year("26/11/2026") is None


def test_amounts_fall_in_bands_lower_edge_inclusive() -> None:
    assert amount_band(50) == "<100"
    assert amount_band(100) == "100-1000"
    assert amount_band(999.99) == "100-1000"
    assert amount_band(25000) == ">=10000"


def test_band_edges_are_configurable() -> None:
    band = build_mask("amount_band", {"edges": [10, 50.5]})
    assert [band(5), band(10), band(50.5)] == ["<10", "10-50.5", ">=50.5"]


def test_keep_counts_and_fill_are_configurable() -> None:
    mask = build_mask("id_number", {"keep_start": 2, "keep_end": 1, "fill": "#"})
    assert mask("11010519491231002X") == "11" + "#" * 15 + "X"


def test_a_value_too_short_to_keep_its_ends_is_starred_whole() -> None:
    assert build_mask("mobile")("1381234") == "*******"
    assert build_mask("id_number")("1101") == "****"


def test_suppress_withholds_the_value() -> None:
    assert build_mask("suppress")("anything") is None


def test_pseudonym_is_a_keyed_hmac_stable_per_key() -> None:
    first = build_mask("pseudonym", {"key": "k" * 16})
    other_key = build_mask("pseudonym", {"key": "j" * 16})
    assert first("11010519491231002X") == first("11010519491231002X")
    assert first("11010519491231002X") != first("440524188001010014")
    assert first("11010519491231002X") != other_key("11010519491231002X")
    assert len(first("x")) == 16
    assert "11010519491231002X" not in first("11010519491231002X")


@pytest.mark.parametrize(
    "kind", ["id_number", "mobile", "name", "address_to_district", "date_to_year", "amount_band", "suppress"]
)
def test_every_mask_keeps_none_as_none_and_never_raises_on_malformed_input(kind: str) -> None:
    mask = build_mask(kind)
    assert mask(None) is None
    for value in MALFORMED:
        mask(value)


def test_amount_band_withholds_what_is_not_an_amount() -> None:
    assert [amount_band(v) for v in ("abc", True, float("nan"), [1])] == [None] * 4


def test_masks_never_mutate_what_they_are_given() -> None:
    value = ["13812345678"]
    build_mask("mobile")(value)
    assert value == ["13812345678"]


@pytest.mark.parametrize(
    ("kind", "params", "param"),
    [
        ("amount_band", {"edges": [100, 10]}, "edges"),
        ("amount_band", {"edges": []}, "edges"),
        ("mobile", {"keep_start": -1}, "keep_start"),
        ("mobile", {"fill": "**"}, "fill"),
        ("name", {"keep": 1}, "keep"),
        ("pseudonym", {}, "key"),
        ("pseudonym", {"key": "short"}, "key"),
        ("nonesuch", {}, "kind"),
    ],
)
def test_a_bad_mask_configuration_names_the_parameter(
    kind: str, params: dict[str, object], param: str
) -> None:
    with pytest.raises(MaskConfigError) as caught:
        build_mask(kind, params)
    assert caught.value.param == param
