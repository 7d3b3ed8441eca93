"""Splitting a person's name into the surname a mask keeps and the given name it hides.

Two-character (compound) surnames are kept whole when the name is long enough to have a given
name after them (``欧阳娜娜`` -> ``欧阳``); a two-character name is read as surname + given name
(``欧阳`` -> ``欧``). A name that is not written in Han characters (``John Smith``,
``买买提·艾力``) keeps its first character only: its surname cannot be told from its shape.
"""

from __future__ import annotations

COMPOUND_SURNAMES: frozenset[str] = frozenset(
    """
    欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 钟离 端木 独孤
    南宫 西门 万俟 闻人 赫连 澹台 公冶 宗政 濮阳 太叔 申屠 呼延 百里 东郭 拓跋 第五 司空 淳于
    单于 仲孙 鲜于 闾丘 子车 亓官 司寇 巫马 公西 颛孙 壤驷 公良 漆雕 乐正 宰父 谷梁 段干 微生
    """.split()  # one block of surnames reviews better than 54 quoted strings
)


def _is_han(text: str) -> bool:
    return bool(text) and all("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in text)


def split_name(name: str) -> tuple[str, str]:
    """(surname kept, rest hidden); an empty name gives ("", "")."""
    if not _is_han(name):
        return name[:1], name[1:]
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    return name[:1], name[1:]
