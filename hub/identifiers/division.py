"""Administrative division codes, GB/T 2260 (6 digits: province, prefecture, county).

Codes change over time, so the table is versioned (``DIVISIONS_VERSION``). It holds every province,
the prefectures of Hebei and the counties of Tangshan, the demo city; a city deploying the hub
extends ``_COUNTIES``/``_PREFECTURES`` with its own from the current GB/T 2260 release.
"""

from __future__ import annotations

from hub.identifiers.errors import InvalidIdentifier

DIVISIONS_VERSION = "GB/T 2260-2024 (provinces; Hebei prefectures; Tangshan counties)"

PROVINCES = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省", "31": "上海市", "32": "江苏省",
    "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省", "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区",
    "46": "海南省", "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省",
    "54": "西藏自治区", "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区", "71": "台湾省", "81": "香港特别行政区", "82": "澳门特别行政区",
}
_PREFECTURES = {
    "1301": "石家庄市", "1302": "唐山市", "1303": "秦皇岛市", "1304": "邯郸市", "1305": "邢台市",
    "1306": "保定市", "1307": "张家口市", "1308": "承德市", "1309": "沧州市", "1310": "廊坊市",
    "1311": "衡水市",
}
_COUNTIES = {
    "130202": "路南区", "130203": "路北区", "130204": "古冶区", "130205": "开平区",
    "130207": "丰南区", "130208": "丰润区", "130209": "曹妃甸区", "130224": "滦南县",
    "130225": "乐亭县", "130227": "迁西县", "130229": "玉田县", "130281": "遵化市",
    "130283": "迁安市", "130284": "滦州市",
}
DEMO_CITY = "130200"
DEMO_COUNTIES = tuple(sorted(_COUNTIES))


def division_name(code: str) -> str | None:
    """Full name of a division in the table ("河北省唐山市路南区"), or None when unknown."""
    province = PROVINCES.get(code[:2])
    if province is None or len(code) != 6:
        return None
    if code[2:] == "0000":
        return province
    prefecture = _PREFECTURES.get(code[:4])
    if prefecture is None:
        return None
    if code[4:] == "00":
        return province + prefecture
    county = _COUNTIES.get(code)
    return None if county is None else province + prefecture + county


def validate_division_code(value: str) -> str:
    if not isinstance(value, str):
        raise InvalidIdentifier("division code", value, "must be a string")
    code = value.strip()
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        raise InvalidIdentifier("division code", value, "must be 6 digits")
    if code[:2] not in PROVINCES:
        raise InvalidIdentifier("division code", value, f"{code[:2]!r} is not a province code")
    if division_name(code) is None:
        raise InvalidIdentifier(
            "division code", value, f"not in the division table ({DIVISIONS_VERSION})"
        )
    return code


def division_prefix(code: str) -> str:
    """The prefix a division's records share: '13' for 130000, '1302' for 130200, else all 6."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code
