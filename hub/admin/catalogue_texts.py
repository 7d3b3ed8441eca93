"""The catalogue's own texts, for the console's message catalogue: what the graph's types and fields
say of themselves, the policies' legal bases and update cycles, and the scopes the policies declare.

They are written in English where they are kept (the schema, ``policies/``); the console's
catalogue and grant-request pages show them through ``say``, so a Chinese page shows their
translation from ``console.po``. ``tests/admin/test_catalogue_pages.py`` fails when the list below
is not the running catalogue's; ``python -m hub.admin.catalogue_texts`` writes it again, then
``make messages`` adds the new ones to the catalogue for translating.
"""

from __future__ import annotations

from pathlib import Path

LIST = "TEXTS: tuple[str, ...] = (\n"


def N_(message: str) -> str:
    return message


def current() -> list[str]:
    """The texts of the catalogue the hub builds now, sorted."""
    from connectors.binding import load_bindings
    from hub.catalogue import build_catalogue
    from hub.policy import load_policies
    from hub.settings import load_settings
    from hub.strawberry_bridge import graphql_schema
    from schema import build_schema

    settings = load_settings(environment="development")
    schema = build_schema()  # the graph and its policies, as the hub builds them at start-up
    policies = load_policies(settings.policies_dir, schema)
    catalogue = build_catalogue(graphql_schema(schema), policies, load_bindings(settings.bindings_dir))
    texts = set(policies.declared_scopes.values())
    for resource in catalogue.resources:
        texts.update(t for t in (resource.description, resource.update_cycle) if t)
        for field in resource.fields:
            texts.update(t for t in (field.description, field.legal_basis, field.update_cycle) if t)
    return sorted(texts)


def write() -> None:
    """Writes the list below again from the running catalogue (it ends the module)."""
    path = Path(__file__)
    head = path.read_text(encoding="utf-8").partition(LIST)[0]
    listed = "".join(f"    N_({_literal(text)}),\n" for text in current())
    path.write_text(f"{head}{LIST}{listed})\n", encoding="utf-8")


def _literal(text: str, width: int = 40) -> str:
    """``text`` as Python literals of ``width`` characters (a Chinese one is two columns wide), joined
    by the parser."""
    parts = [repr(text[at:at + width]) for at in range(0, len(text), width)] or ["''"]
    return "\n       ".join(parts)


if __name__ == "__main__":
    write()


# Written by write(): keep it last.
TEXTS: tuple[str, ...] = (
    N_("A construction project's contract price "
       'as agreed (others see a band).'),
    N_('A document a service matter requires.'),
    N_('A natural person, keyed by resident iden'
       'tity number (GB 11643).'),
    N_("A service matter (政务服务事项) in the centre'"
       's catalogue.'),
    N_('Abnormal-operation list entries (Market '
       'Regulation).'),
    N_('An application case (办件) handled at the '
       'service centre.'),
    N_('An enterprise or other registered market'
       ' entity, keyed by its USCC.'),
    N_("An enterprise's full domicile address (o"
       'thers see its district).'),
    N_("An enterprise's registered capital as re"
       'gistered (others see a band).'),
    N_("An enterprise's tax arrears as owed (oth"
       'ers see a band).'),
    N_("An enterprise's tax credit grade (A/B/M/"
       'C/D) and the year it was assessed for.'),
    N_('An entry in the abnormal-operation list '
       '(经营异常名录).'),
    N_("Applicant's evaluation, 1 (worst) to 5."),
    N_('Application cases it filed at the servic'
       'e centre.'),
    N_("Checked against Public Security's data."),
    N_('Construction permit (建筑工程施工许可证), issued '
       'by Housing.'),
    N_('Contract price, 10,000 CNY.'),
    N_('Date the centre promised a decision by.'),
    N_('Enterprise type as registered (企业类型).'),
    N_('Enterprises whose legal representative t'
       'his person is.'),
    N_('Every licence it holds in any department'
       '; a department that cannot answer is rep'
       'orted in `errors` and its licences are m'
       'issing from the list.'),
    N_('Floor area, square metres.'),
    N_('Food business licence (食品经营许可证), issued '
       'by Market Regulation.'),
    N_('GB/T 2260 code of the licensed place.'),
    N_('GB/T 2260 division code (USCC positions '
       '3-8).'),
    N_('Id of the department that decides it.'),
    N_('Industry, GB/T 4754 code.'),
    N_('Known, the name matches, the ID is in fo'
       'rce.'),
    N_('Licence number, unique across the graph.'),
    N_('Licensed business items (经营项目).'),
    N_('M or F, from the ID number.'),
    N_('Null for the stage the case is in now.'),
    N_('Null while the enterprise is still liste'
       'd.'),
    N_('Null: business term without limit.'),
    N_('Null: valid without time limit.'),
    N_('Number of the case that issued it.'),
    N_('One stage a case went through (受理, 审查, 决'
       '定 ...).'),
    N_("Persons' identity data unmasked: ID numb"
       'er, name, mobile, ID validity, sex, birt'
       'h date.'),
    N_('Pollutant discharge permit (排污许可证), issu'
       'ed by Ecology and Environment.'),
    N_('Population record status (正常, 注销, 死亡 ...'
       ').'),
    N_('Registered capital, 10,000 CNY.'),
    N_('Statutory time limit, working days.'),
    N_('Tax arrears, 10,000 CNY.'),
    N_('Tax registration and credit grade (Taxat'
       'ion).'),
    N_('Tax registration of an enterprise, from '
       'Taxation.'),
    N_('The ID number is in the population data.'),
    N_('The enterprise holding it (Market Regula'
       'tion).'),
    N_("The holder's site, 3 digits."),
    N_('The hub can fetch it from its owner: nev'
       'er ask the applicant.'),
    N_('The licence it issued.'),
    N_('The licence this one changed or renewed.'),
    N_('The result of checking a person against '
       "Public Security's population data."),
    N_('The year the credit grade was assessed f'
       'or.'),
    N_('Time limit the centre promises, working '
       'days.'),
    N_('USCC of the holder.'),
    N_('USCC or ID.'),
    N_('Unified Social Credit Code (GB 32100).'),
    N_('Visits to the centre the applicant needs'
       ' at most.'),
    N_('Which member of staff handled each stage'
       ' of a case.'),
    N_("Who an enterprise's legal representative"
       ' is (a person record).'),
    N_('Who applied in a case: applicant identit'
       'y, legal representative, agent.'),
    N_('enterprise or person.'),
    N_('grant or refuse, once decided.'),
    N_('monthly'),
    N_('on change'),
    N_('real-time'),
    N_('一般纳税人 or 小规模纳税人.'),
    N_('政府信息公开条例 (2019) 第十六条: 行政机关在履行行政管理职能过程中形成'
       '的讨论记录、过程稿等过程性信息可以不予公开; 审查意见属内部过程性信息'),
    N_('纳税信用管理办法 (国家税务总局): 纳税信用信息依法向有关部门提供, 用于联合'
       '激励与惩戒'),
    N_('行政许可, 公共服务, 行政确认 ...'),
    N_('重点管理, 简化管理 or 登记管理.'),
)
