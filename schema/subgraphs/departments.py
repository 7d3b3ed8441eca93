"""What each department contributes to the one graph: the parts its Federation subgraph serves.

An entity's owner (Market Regulation for enterprises and people, each issuer for its licence kind,
the centre for cases and service matters) serves its fields and loads it by key; the others add their
fields to it and need only its key. The centre also answers the cross-department questions the hub
exists for (an enterprise's licences in every register, licences by region, the licence a case
issued): it names those licences, and each licence's fields come from the department that issued it.
"""

from __future__ import annotations

from schema.centre import Case, ServiceMatter
from schema.ecology import PollutantDischargePermit
from schema.enterprise import Enterprise
from schema.housing import ConstructionPermit
from schema.licence import Licence
from schema.market import FoodBusinessLicence
from schema.person import Person
from schema.query import Query
from schema.subgraphs.parts import Part
from hub.identifiers import validate_uscc
from schema.subgraphs.references import (
    applicant_enterprise_reference,
    applicant_person_reference,
    contributed,
    holder_reference,
    licence_reference,
    load,
)

ENTERPRISE_KEY = ("uscc",)
PERSON_KEY = ("idNumber",)
NUMBER_KEY = ("number",)
# An issuer's licences name their holder by USCC; Market Regulation's subgraph resolves it.
LICENCE_ELSEWHERE = Part(Licence, resolvers={"holder": holder_reference})
# A department adding fields to an enterprise holds it to the owner's row filter, by the owner's record:
# the division it is registered in now, not the one its USCC was issued in (an enterprise that moved is
# served where it is now). The USCC is checked as at ``enterprise(uscc:)``.
ENTERPRISE_ELSEWHERE = contributed("Enterprise", validate_uscc)
PERSON_ELSEWHERE = contributed("Person")

MARKET = [
    Part(Query, fields=("enterprise", "person", "enterprises")),
    Part(
        Enterprise, keys=ENTERPRISE_KEY, reference=load("Enterprise"),
        fields=(
            "name", "type", "status", "registered_capital", "registration_date", "approval_date",
            "registration_authority", "term_from", "term_to", "business_scope", "address", "industry_code",
            "region_code", "region_name", "legal_representative", "abnormal_operations", "food_licences",
        ),
    ),
    Part(
        Person, keys=PERSON_KEY, reference=load("Person"),
        fields=(
            "id_type", "name", "mobile", "id_valid_from", "id_valid_to", "sex", "birth_date", "represents",
        ),
    ),
    Part(Licence),
    Part(
        FoodBusinessLicence, keys=NUMBER_KEY,
        reference=load("FoodBusinessLicence"),
    ),
]

HOUSING = [
    Part(Enterprise, keys=ENTERPRISE_KEY, reference=ENTERPRISE_ELSEWHERE, fields=("construction_permits",)),
    LICENCE_ELSEWHERE,
    Part(
        ConstructionPermit, keys=NUMBER_KEY,
        reference=load("ConstructionPermit"),
    ),
]

ECOLOGY = [
    Part(Enterprise, keys=ENTERPRISE_KEY, reference=ENTERPRISE_ELSEWHERE, fields=("discharge_permits",)),
    LICENCE_ELSEWHERE,
    Part(
        PollutantDischargePermit, keys=NUMBER_KEY,
        reference=load("PollutantDischargePermit"),
    ),
]

TAXATION = [
    Part(Enterprise, keys=ENTERPRISE_KEY, reference=ENTERPRISE_ELSEWHERE, fields=("tax_registration",)),
]

# Public Security checks a person against the name another department recorded: the gateway
# brings that name from Market Regulation with the key (taken only from a caller who sees it in clear).
SECURITY = [
    Part(
        Person, keys=PERSON_KEY, reference=PERSON_ELSEWHERE, fields=("identity_verification",),
        external=("name",), requires={"identity_verification": "name"},
    ),
]

CENTRE = [
    Part(Query, fields=("licence", "licences", "case_", "cases", "service_matters")),
    Part(ServiceMatter, keys=("code",), reference=load("ServiceMatter")),
    Part(
        Case, keys=NUMBER_KEY, reference=load("Case"),
        resolvers={
            "applicant_enterprise": applicant_enterprise_reference,
            "applicant_person": applicant_person_reference,
            "licence": licence_reference,
        },
    ),
    Part(Enterprise, keys=ENTERPRISE_KEY, reference=ENTERPRISE_ELSEWHERE, fields=("licences", "cases")),
    Part(Person, keys=PERSON_KEY, reference=PERSON_ELSEWHERE, fields=()),
    # Licences by number only: which licences there are is the centre's answer, their fields the issuers'.
    Part(Licence, fields=("number",)),
    # A licence's division is on its issuer's record only: the row filter loads it from there.
    Part(FoodBusinessLicence, keys=NUMBER_KEY, fields=(), reference=contributed("FoodBusinessLicence")),
    Part(ConstructionPermit, keys=NUMBER_KEY, fields=(), reference=contributed("ConstructionPermit")),
    Part(PollutantDischargePermit, keys=NUMBER_KEY, fields=(), reference=contributed("PollutantDischargePermit")),
]

PARTS: dict[str, list[Part]] = {
    "market": MARKET,
    "housing": HOUSING,
    "taxation": TAXATION,
    "ecology": ECOLOGY,
    "security": SECURITY,
    "centre": CENTRE,
}
