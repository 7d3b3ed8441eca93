"""Taxation's part of the graph: registration status and tax credit grade (conditionally shared)."""

from __future__ import annotations

import enum

import strawberry

from schema.common import Date


@strawberry.enum(description="Tax credit grade (纳税信用等级), A best, D worst; M for new taxpayers.")
class TaxCreditGrade(enum.Enum):
    A = "A"
    B = "B"
    M = "M"
    C = "C"
    D = "D"


@strawberry.enum
class TaxRegistrationStatus(enum.Enum):
    NORMAL = "NORMAL"
    ABNORMAL = "ABNORMAL"
    DEREGISTERED = "DEREGISTERED"


@strawberry.type(description="Tax registration of an enterprise, from Taxation.")
class TaxRegistration:
    taxpayer_name: str
    status: TaxRegistrationStatus
    taxpayer_type: str = strawberry.field(description="一般纳税人 or 小规模纳税人.")
    registered_date: Date
    credit_grade: TaxCreditGrade
    credit_year: int = strawberry.field(description="The year the credit grade was assessed for.")
    arrears: float = strawberry.field(description="Tax arrears, 10,000 CNY.")
    tax_authority: str


