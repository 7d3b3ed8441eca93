"""Where each record type of the graph is kept: the department's connector, its entity, its key.

The graph names types (``Enterprise``, ``FoodBusinessLicence``); the departments' bindings name
entities (``market.enterprise``, ``market.food_licence``). This table is the one place that joins
them, so a resolver asks for "the Enterprise with this USCC" and never names a connector.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Register:
    """A department's register of one graph type; ``key`` is None where no field is unique."""

    connector: str
    entity: str
    key: str | None


_REGISTERS: dict[str, Register] = {
    "Enterprise": Register("market", "enterprise", "uscc"),
    "Person": Register("market", "person", "id_number"),
    "AbnormalOperation": Register("market", "abnormal_operation", None),
    "FoodBusinessLicence": Register("market", "food_licence", "number"),
    "TaxRegistration": Register("taxation", "tax_registration", "uscc"),
    "ConstructionPermit": Register("housing", "construction_permit", "number"),
    "PollutantDischargePermit": Register("ecology", "discharge_permit", "number"),
    # A verification is computed from Public Security's record of the person, never shown raw.
    "IdentityVerification": Register("security", "identity_record", "id_number"),
    "ServiceMatter": Register("centre", "service_matter", "code"),
    "Material": Register("centre", "matter_material", None),
    "Case": Register("centre", "case", "number"),
    "CaseStage": Register("centre", "case_stage", None),
}
REGISTERS: Mapping[str, Register] = MappingProxyType(_REGISTERS)


def register_of(type_name: str) -> Register:
    """The register of a graph type; a type without one is a programming error, never a request's."""
    try:
        return _REGISTERS[type_name]  # the dict itself: a look-up per record read
    except KeyError:
        raise LookupError(f"no department keeps records of type {type_name!r}") from None
