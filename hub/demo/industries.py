"""Industries (GB/T 4754-2017 classes) the demo enterprises belong to, weighted like Tangshan:
steel, coking, cement, ceramics and construction are heavy, with the usual retail and catering.

Each industry says which licences its enterprises typically hold: a food business licence, a
construction permit (as builder) with its specialty code, a discharge permit with its category.
"""

from __future__ import annotations

from dataclasses import dataclass

SCOPE_TAIL = "（依法须经批准的项目，经相关部门批准后方可开展经营活动）"


@dataclass(frozen=True)
class Industry:
    code: str
    word: str
    scope: str
    weight: float
    form: str = "company"  # company (91), individual business (92) or cooperative (93)
    food: bool = False
    specialty: str | None = None
    discharge: str | None = None


INDUSTRIES: tuple[Industry, ...] = (
    Industry("C3110", "钢铁", "炼铁；钢铁冶炼；钢材销售；金属材料销售", 3, discharge="钢铁冶炼"),
    Industry("C3120", "特钢", "炼钢；特种钢材冶炼；钢材销售", 2, discharge="钢铁冶炼"),
    Industry("C3130", "轧钢", "钢压延加工；金属材料销售；货物进出口", 3, discharge="钢压延加工"),
    Industry("C2521", "焦化", "炼焦；焦炭、焦油、煤气销售", 1.5, discharge="炼焦"),
    Industry("C3011", "水泥", "水泥制造；水泥制品销售；建筑材料销售", 1.5, discharge="水泥制造"),
    Industry("C3041", "玻璃", "平板玻璃制造；技术玻璃制品销售", 0.8, discharge="玻璃制造"),
    Industry("C3072", "陶瓷", "卫生陶瓷制品制造；日用陶瓷制品销售", 2, discharge="陶瓷制品制造"),
    Industry("C2614", "化工", "有机化学原料制造（不含危险化学品）；化工产品销售", 1.2, discharge="化学原料"),
    Industry("D4411", "热电", "火力发电；热力生产和供应", 0.6, discharge="火力发电"),
    Industry("C3311", "钢结构", "金属结构制造；钢结构工程施工；金属结构销售", 2, discharge="金属制品"),
    Industry("C3484", "机械", "机械零件、零部件加工；通用设备修理", 2, discharge="通用设备制造"),
    Industry("C3670", "汽车零部件", "汽车零部件及配件制造；汽车零配件批发", 1, discharge="汽车制造"),
    Industry("C1331", "粮油", "食用植物油加工；粮油仓储服务；食品销售", 0.8, food=True, discharge="农副食品加工"),
    Industry("C1431", "食品", "糕点、面包制造；食品销售；食品互联网销售", 1, food=True, discharge="食品制造"),
    Industry("C1524", "饮品", "饮料生产；食品销售；包装服务", 0.5, food=True, discharge="酒、饮料制造"),
    Industry("E4710", "建筑工程", "房屋建筑和市政基础设施项目工程总承包；建设工程施工", 3, specialty="01"),
    Industry("E4813", "市政工程", "市政设施管理；城市道路照明工程施工；园林绿化工程施工", 1.5, specialty="02"),
    Industry("E5012", "装饰工程", "住宅室内装饰装修；建筑装饰材料销售", 1.5, specialty="03"),
    Industry("K7010", "房地产开发", "房地产开发经营；物业管理；住房租赁", 1.5, specialty="01"),
    Industry("F5212", "商贸", "食品销售；日用百货销售；超级市场零售", 2, food=True),
    Industry("F5223", "副食", "食品销售；肉、禽、蛋、奶及水产品零售", 1, food=True),
    Industry("H6210", "餐饮管理", "餐饮服务；餐饮管理；食品销售", 2, food=True),
    Industry("H6220", "快餐", "小餐饮；食品销售；外卖递送服务", 1, food=True),
    Industry("F5174", "物资", "金属矿石销售；金属材料销售；煤炭及制品销售", 2),
    Industry("G5431", "物流", "道路货物运输（不含危险货物）；国内货物运输代理；装卸搬运", 2),
    Industry("I6513", "信息技术", "软件开发；信息系统集成服务；技术服务、技术开发", 1.5),
    Industry("L7243", "企业管理咨询", "企业管理咨询；信息咨询服务（不含许可类信息咨询服务）", 1.5),
    Industry("O8010", "家政服务", "家政服务；养老服务；保洁服务", 0.6),
    Industry("F5223", "副食店", "食品销售（仅销售预包装食品）；日用百货销售", 2.5, form="individual", food=True),
    Industry("H6220", "小吃店", "小餐饮；食品销售", 3, form="individual", food=True),
    Industry("H6210", "饭店", "餐饮服务；食品销售", 2, form="individual", food=True),
    Industry("F5212", "便利店", "食品销售；日用百货销售；烟草制品零售", 2, form="individual", food=True),
    Industry("O8070", "理发店", "理发服务；美容服务", 1, form="individual"),
    Industry("O8111", "汽车修理部", "机动车修理和维护；汽车零配件零售", 1, form="individual", discharge="汽车修理"),
    Industry("F5271", "五金店", "五金产品零售；建筑材料销售", 1, form="individual"),
    Industry("A0141", "蔬菜种植专业合作社", "蔬菜种植；农产品的生产、销售、加工", 0.8, form="coop"),
    Industry("A0151", "果品专业合作社", "水果种植；农产品的生产、销售", 0.5, form="coop"),
    Industry("A0311", "养殖专业合作社", "牲畜饲养；畜牧渔业饲料销售", 0.5, form="coop", discharge="畜禽养殖"),
    Industry("A0512", "农机服务专业合作社", "农业机械服务；农业专业及辅助性活动", 0.3, form="coop"),
)

# Keyed by (code, word): individual businesses share codes with companies but not names.
BY_KEY: dict[tuple[str, str], Industry] = {(i.code, i.word): i for i in INDUSTRIES}
INDUSTRY_CODES: frozenset[str] = frozenset(i.code for i in INDUSTRIES)

MAJOR_SITES = frozenset({"钢铁冶炼", "炼焦", "水泥制造", "火力发电", "玻璃制造"})
POLLUTANTS: dict[str, str] = {
    "钢铁冶炼": "颗粒物,二氧化硫,氮氧化物,化学需氧量,氨氮",
    "钢压延加工": "颗粒物,二氧化硫,氮氧化物,石油类",
    "炼焦": "颗粒物,二氧化硫,氮氧化物,苯并[a]芘,氨氮",
    "水泥制造": "颗粒物,二氧化硫,氮氧化物,氨",
    "玻璃制造": "颗粒物,二氧化硫,氮氧化物",
    "陶瓷制品制造": "颗粒物,二氧化硫,氮氧化物,氟化物",
    "化学原料": "挥发性有机物,颗粒物,化学需氧量,氨氮",
    "火力发电": "颗粒物,二氧化硫,氮氧化物,汞及其化合物",
    "金属制品": "挥发性有机物,颗粒物",
    "通用设备制造": "挥发性有机物,颗粒物",
    "汽车制造": "挥发性有机物,颗粒物,化学需氧量",
    "农副食品加工": "化学需氧量,氨氮,总磷",
    "食品制造": "化学需氧量,氨氮,总磷",
    "酒、饮料制造": "化学需氧量,氨氮,总磷",
    "汽车修理": "挥发性有机物",
    "畜禽养殖": "化学需氧量,氨氮",
}

FOOD_SALE_ITEMS = ("散装食品销售（不含冷藏冷冻食品）", "特殊食品销售（保健食品）", "特殊食品销售（婴幼儿配方乳粉）")
FOOD_CATERING_ITEMS = ("冷食类食品制售", "糕点类食品制售（不含裱花蛋糕）", "自制饮品制售（普通类）")
SPECIALTIES = {"01": "房屋建筑工程", "02": "市政基础设施工程", "03": "装饰装修工程"}
