"""Name vocabularies: people, trade names (字号), roads and places in Tangshan.

Surnames are listed roughly by frequency in northern China; the weights fall off with rank so that
王, 李, 张 and 刘 dominate as they do in real registers.
"""

from __future__ import annotations

from hub.demo.context import Ctx, WeightedPool

SURNAMES = (
    "王李张刘赵杨陈黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董肖程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏"
    "薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹常武乔贺"
)
MALE_CHARS = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宁浩宇亮建国峰志海东林文晨阳俊凯龙博旭振洪德春庆胜永成立新利福金学彬"
FEMALE_CHARS = "芳娜敏静丽艳娟霞秀英燕玲桂萍红琳雪梅慧婷倩颖洁莉丹蕾晶欣悦佳琪璐楠薇月岚璇妍淑凤兰"

BRAND_FIRST = "鑫宏华金恒盛德兴荣聚永福佳润天博新正广昊嘉泰丰晟中众凯立瑞远海冀唐东安国汇久顺锦诚信源泽通"
BRAND_SECOND = "达业远泰通源丰鑫隆信和成亚禾盛诺鼎诚昌祥辉发宇邦益顺润航晨越瑞兴茂"
PLACE_BRANDS = ("冀东", "开滦", "燕山", "渤海", "港城", "滦河", "浭阳", "凤城", "凤凰", "冀唐", "曹港", "还乡河")

ROADS = (
    "新华道", "建设路", "北新道", "文化路", "卫国路", "学院路", "长宁道", "大里路", "光明路", "龙泽路",
    "站前路", "华岩路", "友谊路", "缸窑路", "翔云道", "裕华道", "西山道", "凤凰道", "钢城路", "燕山路",
    "长虹道", "国防道", "复兴路", "南新道", "增盛路", "朝阳道", "利民道", "和平路", "龙华道", "高新道",
)
PARKS = ("经济开发区", "工业园区", "循环经济产业园", "临港产业园", "高新技术产业园", "装备制造产业园")
ESTATES = ("花园", "家园", "名苑", "雅居", "新城", "华府", "佳苑", "御景", "嘉园", "锦苑")

_SURNAME_POOL: WeightedPool[str] = WeightedPool(
    list(SURNAMES), [1.0 / (rank + 1) ** 0.8 for rank in range(len(SURNAMES))]
)


def given_name(ctx: Ctx, male: bool) -> str:
    chars = MALE_CHARS if male else FEMALE_CHARS
    length = 1 if ctx.chance(0.35) else 2
    return "".join(ctx.pick(chars) for _ in range(length))


def person_name(ctx: Ctx, male: bool) -> str:
    return _SURNAME_POOL.draw(ctx) + given_name(ctx, male)


def renamed(ctx: Ctx, name: str, male: bool) -> str:
    """The same person under another given name, as after a registered name change."""
    while True:
        candidate = name[0] + given_name(ctx, male)
        if candidate != name:
            return candidate


def brand(ctx: Ctx) -> str:
    if ctx.chance(0.08):
        return ctx.pick(PLACE_BRANDS)
    first = ctx.pick(BRAND_FIRST)
    second = ctx.pick(BRAND_SECOND)
    return first + (second if second != first else "达")


def street(ctx: Ctx) -> str:
    """A street address inside a county: road, number and sometimes a building."""
    number = f"{ctx.rng.randint(1, 399)}号"
    if ctx.chance(0.3):
        number += f"{ctx.rng.randint(1, 30)}号楼{ctx.rng.randint(1, 6)}单元"
    return ctx.pick(ROADS) + number


def site_street(ctx: Ctx) -> str:
    """An address in an industrial park, where factories and their discharge outlets are."""
    return ctx.pick(PARKS) + ctx.pick(ROADS) + f"{ctx.rng.randint(1, 199)}号"


def mobile(ctx: Ctx) -> str:
    prefix = ctx.pick(("13", "15", "17", "18", "19"))
    third = ctx.pick("0123456789" if prefix in ("13", "18") else "0235789")
    return prefix + third + f"{ctx.rng.randint(0, 99_999_999):08d}"
