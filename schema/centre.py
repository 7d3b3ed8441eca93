"""The service centre's part of the graph: service matters, application cases and their stages."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from connectors.base import Record
from hub.identifiers import licence_kind_of
from schema.common import Date, DateTime, ctx, look_up, records, related
from schema.licence import LICENCE_TYPES, Licence

if TYPE_CHECKING:
    from schema.enterprise import Enterprise
    from schema.person import Person


@strawberry.enum(description="Where an application case stands.")
class CaseStatus(enum.Enum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    IN_REVIEW = "in_review"
    DECIDED = "decided"
    COMPLETED = "completed"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


@strawberry.type(description="A document a service matter requires.")
class Material:
    name: str
    required: bool
    format: str
    hub_supplied: bool = strawberry.field(description="The hub can fetch it from its owner: never ask the applicant.")


@related("code", ("Material", "matter_code"))
async def resolve_materials(root: Record, info: Info) -> list[Record]:
    return await records(info).many(info, "Material", "matter_code", root["code"])


@strawberry.type(description="A service matter (政务服务事项) in the centre's catalogue.")
class ServiceMatter:
    code: str
    task_code: str
    name: str
    matter_type: str = strawberry.field(description="行政许可, 公共服务, 行政确认 ...")
    department: str = strawberry.field(description="Id of the department that decides it.")
    legal_basis: str
    legal_limit_days: int = strawberry.field(description="Statutory time limit, working days.")
    promised_limit_days: int = strawberry.field(description="Time limit the centre promises, working days.")
    accept_conditions: str
    result_type: str
    online: bool
    visits: int = strawberry.field(description="Visits to the centre the applicant needs at most.")
    materials: list[Record] = strawberry.field(resolver=resolve_materials, graphql_type=list[Material])


@strawberry.type(description="One stage a case went through (受理, 审查, 决定 ...).")
class CaseStage:
    seq: int
    stage: str
    started_at: DateTime
    ended_at: DateTime | None = strawberry.field(description="Null for the stage the case is in now.")
    outcome: str | None
    handler: str | None
    note: str | None


resolve_matter = look_up("ServiceMatter", "matter_code")


@related("number", ("CaseStage", "case_number"))
async def resolve_stages(root: Record, info: Info) -> list[Record]:
    stages = await records(info).many(info, "CaseStage", "case_number", root["number"])
    return sorted(stages, key=lambda s: s["seq"])


async def resolve_applicant_enterprise(root: Record, info: Info) -> Record | None:
    if root["applicant_id_type"] != "USCC":
        return None
    return await records(info).one(info, "Enterprise", root["applicant_id"])


async def resolve_applicant_person(root: Record, info: Info) -> Record | None:
    if root["applicant_id_type"] != "ID":
        return None
    return await records(info).one(info, "Person", root["applicant_id"])


async def resolve_licence(root: Record, info: Info) -> Record | None:
    number = root["licence_number"]
    if not number:
        return None
    type_name = LICENCE_TYPES[licence_kind_of(number)]
    if not ctx(info).can_see(type_name):
        return None
    return await records(info).one(info, type_name, number)


@strawberry.type(description="An application case (办件) handled at the service centre.")
class Case:
    number: str
    matter_code: str
    matter: Record | None = strawberry.field(resolver=resolve_matter, graphql_type=ServiceMatter | None)
    apply_date: Date
    applicant_type: str = strawberry.field(description="enterprise or person.")
    applicant_name: str
    applicant_id_type: str = strawberry.field(description="USCC or ID.")
    applicant_id: str
    applicant_enterprise: Record | None = strawberry.field(
        resolver=resolve_applicant_enterprise,
        graphql_type=Annotated["Enterprise", strawberry.lazy("schema.enterprise")] | None,
    )
    applicant_person: Record | None = strawberry.field(
        resolver=resolve_applicant_person, graphql_type=Annotated["Person", strawberry.lazy("schema.person")] | None
    )
    legal_rep_name: str | None
    agent_name: str | None
    accept_date: Date | None
    promised_date: Date | None = strawberry.field(description="Date the centre promised a decision by.")
    status: CaseStatus
    region_code: str
    result_type: str | None = strawberry.field(description="grant or refuse, once decided.")
    result_date: Date | None
    licence: Record | None = strawberry.field(
        resolver=resolve_licence, graphql_type=Licence | None, description="The licence it issued."
    )
    satisfaction: int | None = strawberry.field(description="Applicant's evaluation, 1 (worst) to 5.")
    stages: list[Record] = strawberry.field(resolver=resolve_stages, graphql_type=list[CaseStage])


