"""Apollo Gateway in front of the hub's subgraphs answers cross-department queries as /graphql does."""

from __future__ import annotations

from typing import Any

import pytest

from tests.federation.conftest import Federated

ENTERPRISE = """
query Enterprise($uscc: String!) {
  enterprise(uscc: $uscc) {
    uscc name status registeredCapital regionName
    legalRepresentative { name sex identityVerification { verified nameMatches status } }
    taxRegistration { status creditGrade creditYear }
    abnormalOperations { reason listedDate }
    licences {
      __typename number validFrom validTo status holder { name }
      ... on FoodBusinessLicence { businessItems }
      ... on ConstructionPermit { projectName floorArea }
      ... on PollutantDischargePermit { managementClass pollutants }
    }
    cases { number status matter { name department } stages { seq stage startedAt outcome } }
  }
}"""

LICENCE = """
query Licence($number: String!) {
  licence(number: $number) {
    __typename number status
    holder { uscc name legalRepresentative { idNumber name identityVerification { verified found } } }
  }
}"""

LICENCES_IN_REGION = """
query Licences($region: String!, $after: String) {
  licences(first: 25, region: $region, after: $after) {
    edges { cursor node { __typename number validTo holderName holder { name taxRegistration { creditGrade } } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""

CASES = """
{
  cases(first: 15) {
    edges { node {
      number status applyDate
      matter { code name materials { name hubSupplied } }
      applicantEnterprise { name licences { number } }
      applicantPerson { name identityVerification { verified } }
      licence { __typename number validTo holder { name } }
      stages { seq stage endedAt }
    } }
  }
}"""

PERSON = """
query Person($id: String!) {
  person(idNumber: $id) {
    name birthDate identityVerification { verified status idValidTo }
    represents { name constructionPermits { number } dischargePermits { number } cases { number } }
  }
}"""


@pytest.fixture(scope="module")
def keys(federated: Federated) -> dict[str, Any]:
    """An enterprise holding licences of several kinds and filing cases, found through /graphql."""
    page = federated.hub_query(
        "{ enterprises(first: 200) { edges { node { uscc legalRepresentative { idNumber } "
        "licences { __typename number regionCode } cases { number } } } } }"
    )["data"]["enterprises"]["edges"]
    best = max(page, key=lambda e: (len({lic["__typename"] for lic in e["node"]["licences"]}), len(e["node"]["cases"])))
    node = best["node"]
    permit = next(lic for e in page for lic in e["node"]["licences"] if lic["__typename"] == "ConstructionPermit")
    return {
        "uscc": node["uscc"], "person": node["legalRepresentative"]["idNumber"],
        "licence": permit["number"], "region": permit["regionCode"][:4] + "00",
    }


def _same_answer(federated: Federated, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    own = federated.hub_query(query, variables)
    through_gateway = federated.gateway_query(query, variables)
    assert "errors" not in own, own["errors"]
    assert "errors" not in through_gateway, through_gateway["errors"]
    assert through_gateway["data"] == own["data"]
    return own["data"]  # type: ignore[no-any-return]


def test_an_enterprise_across_every_department(federated: Federated, keys: dict[str, Any]) -> None:
    data = _same_answer(federated, ENTERPRISE, {"uscc": keys["uscc"]})
    assert len({lic["__typename"] for lic in data["enterprise"]["licences"]}) >= 2
    assert data["enterprise"]["cases"] and data["enterprise"]["taxRegistration"]


def test_a_licence_with_its_holders_verified_legal_representative(federated: Federated, keys: dict[str, Any]) -> None:
    data = _same_answer(federated, LICENCE, {"number": keys["licence"]})
    assert data["licence"]["holder"]["legalRepresentative"]["identityVerification"]["found"] is True


def test_two_pages_of_licences_in_a_region(federated: Federated, keys: dict[str, Any]) -> None:
    first = _same_answer(federated, LICENCES_IN_REGION, {"region": keys["region"]})["licences"]
    assert first["pageInfo"]["hasNextPage"], "the demo region should have more than one page"
    _same_answer(federated, LICENCES_IN_REGION, {"region": keys["region"], "after": first["pageInfo"]["endCursor"]})


def test_cases_with_their_matters_applicants_and_licences(federated: Federated) -> None:
    _same_answer(federated, CASES)


def test_a_person_and_the_enterprises_they_represent(federated: Federated, keys: dict[str, Any]) -> None:
    _same_answer(federated, PERSON, {"id": keys["person"]})


def test_errors_keep_their_codes_through_the_gateway(federated: Federated) -> None:
    answer = federated.gateway_query('{ enterprise(uscc: "91130200699229617Y") { name } }')
    assert answer["data"] == {"enterprise": None}
    assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_the_gateway_gets_a_decodable_trace_from_every_subgraph_it_asks(federated: Federated, keys: dict[str, Any]) -> None:
    answer = federated.gateway_query(ENTERPRISE, {"uscc": keys["uscc"]}, **{"x-capture-traces": "1"})
    traces = answer["extensions"]["subgraphTraces"]
    assert {t["subgraph"] for t in traces} >= {"market", "taxation", "security", "centre", "housing"}
    for trace in traces:
        assert trace["received"] and not trace["parsingFailed"], trace
        assert trace["durationNs"] > 0 and trace["rootFields"], trace
    assert "error decoding" not in federated.gateway_log.read_text(encoding="utf-8")


def test_without_trace_capture_the_gateway_asks_for_none(federated: Federated, keys: dict[str, Any]) -> None:
    answer = federated.gateway_query(LICENCE, {"number": keys["licence"]})
    assert "subgraphTraces" not in answer.get("extensions", {})
