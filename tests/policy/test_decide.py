"""Decisions per caller: deny by default, masks named, cached per scopes, purpose and type."""

from __future__ import annotations

from hub.policy import ALLOW, Deny, Mask, Policies, decide

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


def test_registered_capital_is_banded_without_the_finance_scope(policies: Policies) -> None:
    banded = decide(policies, MARKET, "licensing", "Enterprise")
    exact = decide(policies, SECURITY, "licensing", "Enterprise")
    masked = banded.decision("registered_capital")
    assert isinstance(masked, Mask) and masked.apply(ENTERPRISE["registered_capital"]) == "1000-5000"
    assert exact.decision("registered_capital") is ALLOW and exact.decision("address") is ALLOW
    address = banded.decision("address")
    assert isinstance(address, Mask) and address.apply(ENTERPRISE["address"]) == "河北省唐山市路南区"


def test_a_purpose_the_policy_does_not_allow_denies_every_field(policies: Policies) -> None:
    decisions = decide(policies, SECURITY, "marketing", "Person")
    assert decisions.fields and all(isinstance(d, Deny) and d.reason == "purpose" for d in decisions.fields.values())


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


def test_unknown_types_and_fields_are_denied(policies: Policies) -> None:
    assert decide(policies, SECURITY, "licensing", "Spaceship").fields == {}
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


def test_relations_and_computed_fields_are_decided_like_any_field(policies: Policies) -> None:
    decisions = decide(policies, MARKET, "licensing", "Enterprise")
    assert decisions.decision("legal_representative") == Deny("scope", "market.enterprise.legal_rep:read")
    assert decisions.decision("abnormal_operations") is ALLOW
