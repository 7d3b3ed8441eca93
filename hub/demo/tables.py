"""The demo departments' own databases, as each department would keep them.

One ``MetaData`` per department: the demo generator writes SQLite files from these, the demo REST
and GraphQL services read them, and the tests create the same tables on PostgreSQL and MariaDB to
run the SQL connector against real servers. Column names are the department's; the hub's bindings
in ``connectors/departments/`` map them to the graph's fields.

Dates are ISO ``YYYY-MM-DD`` strings and timestamps ISO ``YYYY-MM-DDTHH:MM:SS`` strings, as a
department exports them; money is in units of 10,000 CNY (万元), as registers record it, kept as
DOUBLE (MariaDB's FLOAT is single precision and would round it).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Double, Integer, MetaData, String, Table, Text

String18 = String(18)

# Market Regulation (市场监督管理局): registration, persons, food business licences, abnormal list.
market = MetaData()

enterprises = Table(
    "enterprises",
    market,
    Column("uscc", String18, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("type", String(60), nullable=False),
    Column("status", String(30), nullable=False),
    Column("legal_rep_id", String18, nullable=False, index=True),
    Column("registered_capital", Double, nullable=False),
    Column("registration_date", String(10), nullable=False),
    Column("approval_date", String(10), nullable=False),
    Column("registration_authority", String(100), nullable=False),
    Column("term_from", String(10), nullable=False),
    Column("term_to", String(10)),
    Column("business_scope", Text, nullable=False),
    Column("address", String(200), nullable=False),
    Column("industry_code", String(5), nullable=False),
    Column("region_code", String(6), nullable=False, index=True),
)

persons = Table(
    "persons",
    market,
    Column("id_number", String18, primary_key=True),
    Column("id_type", String(20), nullable=False),
    Column("name", String(50), nullable=False),
    Column("mobile", String(11)),
    Column("id_valid_from", String(10)),
    Column("id_valid_to", String(10)),
)

food_licences = Table(
    "food_licences",
    market,
    Column("number", String(16), primary_key=True),
    Column("holder_uscc", String18, nullable=False, index=True),
    Column("holder_name", String(200), nullable=False),
    Column("issuer_name", String(100), nullable=False),
    Column("issuer_code", String18, nullable=False),
    Column("issue_date", String(10), nullable=False),
    Column("valid_from", String(10), nullable=False),
    Column("valid_to", String(10)),
    Column("status", String(20), nullable=False, index=True),
    Column("business_items", String(200), nullable=False),
    Column("operating_address", String(200), nullable=False),
    Column("region_code", String(6), nullable=False, index=True),
    Column("version", String(3), nullable=False),
    Column("related_number", String(16)),
    Column("source_case", String(24)),
)

abnormal_operations = Table(
    "abnormal_operations",
    market,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("uscc", String18, nullable=False, index=True),
    Column("reason", String(200), nullable=False),
    Column("listed_date", String(10), nullable=False),
    Column("listing_authority", String(100), nullable=False),
    Column("removed_date", String(10)),
    Column("removal_reason", String(200)),
)

# Housing and Urban-Rural Development (住房和城乡建设局): construction permits.
housing = MetaData()

construction_permits = Table(
    "construction_permits",
    housing,
    Column("permit_no", String18, primary_key=True),
    Column("builder_uscc", String18, nullable=False, index=True),
    Column("builder_name", String(200), nullable=False),
    Column("project_name", String(200), nullable=False),
    Column("project_address", String(200), nullable=False),
    Column("region_code", String(6), nullable=False, index=True),
    Column("contract_price", Double, nullable=False),
    Column("floor_area", Double, nullable=False),
    Column("issuer_name", String(100), nullable=False),
    Column("issue_date", String(10), nullable=False),
    Column("valid_from", String(10), nullable=False),
    Column("valid_to", String(10)),
    Column("status", String(20), nullable=False, index=True),
)

# Taxation (税务局): registration status and tax credit grade, conditionally shared.
taxation = MetaData()

tax_registrations = Table(
    "tax_registrations",
    taxation,
    Column("uscc", String18, primary_key=True),
    Column("taxpayer_name", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("taxpayer_type", String(30), nullable=False),
    Column("registered_date", String(10), nullable=False),
    Column("credit_grade", String(1), nullable=False),
    Column("credit_year", Integer, nullable=False),
    Column("arrears", Double, nullable=False),
    Column("tax_authority", String(100), nullable=False),
)

# Ecology and Environment (生态环境局): pollutant discharge permits, served over REST.
ecology = MetaData()

discharge_permits = Table(
    "discharge_permits",
    ecology,
    Column("permit_number", String(22), primary_key=True),
    Column("holder_uscc", String18, nullable=False, index=True),
    Column("holder_name", String(200), nullable=False),
    Column("site_number", String(3), nullable=False),
    Column("site_address", String(200), nullable=False),
    Column("region_code", String(6), nullable=False, index=True),
    Column("industry_category", String(100), nullable=False),
    Column("management_class", String(20), nullable=False),
    Column("pollutants", String(200), nullable=False),
    Column("issuer_name", String(100), nullable=False),
    Column("issue_date", String(10), nullable=False),
    Column("valid_from", String(10), nullable=False),
    Column("valid_to", String(10)),
    Column("status", String(20), nullable=False, index=True),
)

# Public Security (公安): population base data, served over GraphQL for identity verification.
security = MetaData()

population = Table(
    "population",
    security,
    Column("id_number", String18, primary_key=True),
    Column("name", String(50), nullable=False),
    Column("sex", String(1), nullable=False),
    Column("birth_date", String(10), nullable=False),
    Column("address_code", String(6), nullable=False),
    Column("id_valid_from", String(10), nullable=False),
    Column("id_valid_to", String(10)),
    Column("status", String(20), nullable=False),
)

# The service centre (政务服务中心): service matters, application cases and their stages.
centre = MetaData()

service_matters = Table(
    "service_matters",
    centre,
    Column("code", String(30), primary_key=True),
    Column("task_code", String(40), nullable=False),
    Column("name", String(200), nullable=False),
    Column("matter_type", String(30), nullable=False),
    Column("department", String(30), nullable=False),
    Column("legal_basis", Text, nullable=False),
    Column("legal_limit_days", Integer, nullable=False),
    Column("promised_limit_days", Integer, nullable=False),
    Column("accept_conditions", Text, nullable=False),
    Column("result_type", String(40), nullable=False),
    Column("online", Boolean, nullable=False),
    Column("visits", Integer, nullable=False),
)

matter_materials = Table(
    "matter_materials",
    centre,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("matter_code", String(30), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("required", Boolean, nullable=False),
    Column("format", String(30), nullable=False),
    Column("hub_supplied", Boolean, nullable=False),
)

cases = Table(
    "cases",
    centre,
    Column("number", String(24), primary_key=True),
    Column("matter_code", String(30), nullable=False, index=True),
    Column("apply_date", String(10), nullable=False),
    Column("applicant_type", String(20), nullable=False),
    Column("applicant_name", String(200), nullable=False),
    Column("applicant_id_type", String(10), nullable=False),
    Column("applicant_id", String18, nullable=False, index=True),
    Column("legal_rep_name", String(50)),
    Column("agent_name", String(50)),
    Column("accept_date", String(10)),
    Column("promised_date", String(10)),
    Column("status", String(20), nullable=False, index=True),
    Column("region_code", String(6), nullable=False, index=True),
    Column("result_type", String(20)),
    Column("result_date", String(10)),
    Column("licence_number", String(22)),
    Column("satisfaction", Integer),
)

case_stages = Table(
    "case_stages",
    centre,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("case_number", String(24), nullable=False, index=True),
    Column("seq", Integer, nullable=False),
    Column("stage", String(30), nullable=False),
    Column("started_at", String(19), nullable=False),
    Column("ended_at", String(19)),
    Column("outcome", String(30)),
    Column("handler", String(50)),
    Column("note", String(200)),
)

DEPARTMENT_METADATA: dict[str, MetaData] = {
    "market": market,
    "housing": housing,
    "taxation": taxation,
    "ecology": ecology,
    "security": security,
    "centre": centre,
}
