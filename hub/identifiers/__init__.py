"""Identifier validators (docs/architecture.md, the domain): USCC (GB 32100), resident ID number (GB 11643),
administrative division code (GB/T 2260) and the licence numbers the demo departments issue.

Each ``validate_*`` returns the normalised identifier or raises ``InvalidIdentifier`` whose message
says what is wrong, in words a client developer can act on.
"""

from hub.identifiers.division import DIVISIONS_VERSION, division_name, validate_division_code
from hub.identifiers.errors import InvalidIdentifier
from hub.identifiers.id_number import id_check_char, validate_id_number
from hub.identifiers.licence_numbers import LicenceKind, licence_kind_of
from hub.identifiers.uscc import organisation_code_ok, uscc_check_char, validate_uscc

__all__ = [
    "DIVISIONS_VERSION",
    "InvalidIdentifier",
    "LicenceKind",
    "division_name",
    "id_check_char",
    "licence_kind_of",
    "organisation_code_ok",
    "uscc_check_char",
    "validate_division_code",
    "validate_id_number",
    "validate_uscc",
]
