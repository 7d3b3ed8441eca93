"""Decisions per caller and the views they build: deny by default, the raw record never touched."""

from __future__ import annotations

import copy

from hub.policy import ALLOW, Deny, Mask, Policies, admits, decide, view

PERSON = {
    "id_number": "11010519491231002X",
    "id_type": "ID",
    "name": "欧阳娜娜",
    "mobile": "13812345678",
    "id_valid_from": "2010-03-01",
    "id_valid_to": None,
}
ENTERPRISE = {
    "uscc": "91130200699229617X",
    "name": "唐山某某钢铁有限公司",
    "type": "有限责任公司",
    "status": "IN_OPERATION",
    "legal_rep_id": "11010519491231002X",
    "registered_capital": 2500.0,
    "registration_date": "2009-12-01",
    "approval_date": "2020-05-06",
    "registration_authority": "唐山市市场监督管理局",
    "term_from": "2009-12-01",
    "term_to": None,
    "business_scope": "钢铁冶炼",
    "address": "河北省唐山市路南区XX路NN号",
    "industry_code": "C3110",
    "region_code": "130202",
}
MARKET = frozenset({"market.enterprise:read", "market.person:read"})
SECURITY = MARKET | {"security.identity:read", "market.finance:read", "market.enterprise.address:read"}


def test_two_callers_over_one_raw_record_each_see_only_their_own_view(policies: Policies) -> None:
    raw = dict(PERSON)
    limited = view(raw, decide(policies, MARKET, "identity_check", "Person"))
    full = view(raw, decide(policies, SECURITY, "identity_check", "Person"))
    assert limited == {
        **PERSON,
        "id_number": "110105********002X",
        "name": "欧阳*",
        "mobile": "138****5678",
        "id_valid_from": "2010",
    }
    assert full == PERSON
    assert limited is not full and full is not raw


def test_building_views_leaves_the_raw_record_unchanged(policies: Policies) -> None:
    raw = copy.deepcopy(ENTERPRISE)
    for scopes in (MARKET, SECURITY, frozenset()):
        view(raw, decide(policies, scopes, "licensing", "Enterprise"))
    assert raw == ENTERPRISE


def test_registered_capital_is_banded_without_the_finance_scope(policies: Policies) -> None:
    banded = view(ENTERPRISE, decide(policies, MARKET, "licensing", "Enterprise"))
    exact = view(ENTERPRISE, decide(policies, SECURITY, "licensing", "Enterprise"))
    assert banded is not None and exact is not None
    assert (banded["registered_capital"], exact["registered_capital"]) == ("1000-5000", 2500.0)
    assert (banded["address"], exact["address"]) == ("河北省唐山市路南区", ENTERPRISE["address"])


def test_a_purpose_the_policy_does_not_allow_denies_every_field(policies: Policies) -> None:
    decisions = decide(policies, SECURITY, "marketing", "Person")
    assert all(isinstance(d, Deny) and d.reason == "purpose" for d in decisions.fields.values())
    assert view(PERSON, decisions) == {}


def test_a_field_narrower_in_purpose_than_its_type_is_denied_for_the_others(policies: Policies) -> None:
    scopes = frozenset({"taxation.tax_registration:read", "taxation.credit:read"})
    assert decide(policies, scopes, "credit_supervision", "TaxRegistration").decision("credit_grade") is ALLOW
    denied = decide(policies, scopes, "supervision", "TaxRegistration").decision("credit_grade")
    assert isinstance(denied, Deny) and denied.reason == "purpose"


def test_a_tax_credit_grade_is_denied_naming_the_missing_scope(policies: Policies) -> None:
    decisions = decide(policies, {"taxation.tax_registration:read"}, "licensing", "TaxRegistration")
    assert decisions.decision("credit_grade") == Deny("scope", "taxation.credit:read")
    assert decisions.decision("status") is ALLOW


def test_unknown_scopes_grant_nothing(policies: Policies) -> None:
    decisions = decide(
        policies, {"everything:read", "market.enterprise:write"}, "case_handling", "Enterprise"
    )
    assert set(decisions.fields.values()) == {Deny("scope", "market.enterprise:read")}
    assert view(ENTERPRISE, decisions) == {}


def test_unknown_types_and_fields_are_denied(policies: Policies) -> None:
    assert view(ENTERPRISE, decide(policies, SECURITY, "licensing", "Spaceship")) == {}
    assert decide(policies, SECURITY, "licensing", "Enterprise").decision("password") == Deny(
        "unclassified", "a policy for this field"
    )


def test_a_not_shared_field_is_denied_whatever_the_grant(policies: Policies) -> None:
    scopes = frozenset(policies.catalogue)
    decision = decide(policies, scopes, "case_handling", "CaseStage").decision("note")
    assert isinstance(decision, Deny) and decision.reason == "not_shared"


def test_masks_are_reported_by_name_with_their_parameters(policies: Policies) -> None:
    decision = decide(policies, MARKET, "licensing", "Enterprise").decision("registered_capital")
    assert isinstance(decision, Mask)
    assert (decision.name, list(decision.params["edges"])) == (
        "capital_band",
        [10, 100, 500, 1000, 5000, 10000],
    )


def test_a_pseudonym_key_is_never_reported_with_the_decision(policies: Policies) -> None:
    decision = decide(policies, {"centre.case:read"}, "case_handling", "Case").decision("applicant_id")
    assert isinstance(decision, Mask) and "key" not in decision.params


def test_decisions_are_computed_once_per_scopes_purpose_and_type(policies: Policies) -> None:
    first = decide(policies, MARKET, "licensing", "Enterprise")
    assert decide(policies, set(MARKET), "licensing", "Enterprise") is first
    assert decide(policies, MARKET, "supervision", "Enterprise") is not first


def test_relations_and_computed_fields_are_decided_but_not_copied_into_the_view(policies: Policies) -> None:
    decisions = decide(policies, MARKET, "licensing", "Enterprise")
    shown = view(ENTERPRISE, decisions)
    assert shown is not None and "legal_rep_id" not in shown and "region_name" not in shown
    assert decisions.decision("legal_representative") == Deny("scope", "market.enterprise.legal_rep:read")
    assert decisions.decision("abnormal_operations") is ALLOW


def test_computed_values_pass_through_the_same_decision(policies: Policies) -> None:
    limited = decide(policies, MARKET, "identity_check", "Person")
    assert (limited.apply("birth_date", "1949-12-31"), limited.apply("sex", "F")) == ("1949", None)
    assert (
        decide(policies, SECURITY, "identity_check", "Person").apply("birth_date", "1949-12-31")
        == "1949-12-31"
    )


def test_no_record_gives_no_view(policies: Policies) -> None:
    assert view(None, decide(policies, MARKET, "licensing", "Enterprise")) is None


def test_rows_outside_the_callers_jurisdiction_are_not_admitted(policies: Policies) -> None:
    decisions = decide(policies, MARKET, "licensing", "Enterprise")
    assert admits(ENTERPRISE, "1302", decisions) and admits(ENTERPRISE, "", decisions)
    assert not admits(ENTERPRISE, "130203", decisions)
    assert not admits({**ENTERPRISE, "region_code": None}, "13", decisions)


def test_types_without_a_jurisdiction_are_not_row_filtered(policies: Policies) -> None:
    assert admits(PERSON, "4401", decide(policies, MARKET, "licensing", "Person"))
