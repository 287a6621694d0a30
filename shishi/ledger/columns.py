"""Columns and the words people type: headings and choices matched in every language Shishi speaks.

A ``Column`` is known by its label in each language, its key, and the other headings offices use
(``Headings`` matches them after folding case, width and spaces, with or without a unit in
parentheses, alone or as the last part of a merged heading such as ``目标任务/指标名称``).
``Choices`` does the same for the values of a choice column (``乡镇（街道）`` is a town).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise, cached_property
from django.utils.translation import gettext_lazy

from shishi.lib.sheets import fold, squash, text

PARENTHESES = re.compile(r"[(（][^)）]*[)）]")


def labels(value: Promise | str) -> set[str]:
    """``value`` translated into every language Shishi speaks, folded."""
    out = {fold(str(value))}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            out.add(fold(str(value)))
    return out


@dataclass(frozen=True)
class Column:
    key: str
    label: Promise | str
    # Other headings people use for this column, in any language.
    aliases: tuple[str, ...] = ()
    required: bool = True
    max_length: int | None = None

    def names(self) -> set[str]:
        return (
            labels(self.label)
            | {fold(self.key.replace("_", " "))}
            | {fold(a) for a in self.aliases}
        )


class Headings:
    """Heading text → column key, for a sheet's columns in every language; built on first use."""

    def __init__(self, columns: Iterable[Column]):
        self.columns = tuple(columns)
        self.by_key = {c.key: c for c in self.columns}

    @cached_property
    def _map(self) -> dict[str, str]:
        mapping: dict[str, str] = {}
        for column in self.columns:
            for name in column.names():
                mapping.setdefault(squash(PARENTHESES.sub("", name)), column.key)
        return mapping

    def match(self, heading: str) -> str | None:
        """The column a heading names: the whole heading first, then its last part after ``/``,
        each with and without a unit in parentheses (``计划投资（万元）``)."""
        candidates = [heading]
        if "/" in heading:
            candidates.append(heading.rsplit("/", 1)[1])
        for candidate in candidates:
            for form in (candidate, PARENTHESES.sub("", candidate)):
                found = self._map.get(squash(form))
                if found is not None:
                    return found
        return None

    def required(self) -> list[Column]:
        return [c for c in self.columns if c.required]


class Choices:
    """A choice column's values: the stored value, its label in every language, and aliases."""

    def __init__(self, choices: Any, aliases: dict[Any, Iterable[str]] | None = None):
        self.choices = choices
        self.aliases = aliases or {}

    @cached_property
    def _map(self) -> dict[str, Any]:
        mapping: dict[str, Any] = {}
        for value, label in self.choices.choices:
            mapping[fold(str(value))] = value
            for name in labels(label):
                mapping[name] = value
            for alias in self.aliases.get(value, ()):
                mapping[fold(alias)] = value
        return mapping

    def parse(self, value: Any) -> Any:
        """The stored value ``value`` names, or None."""
        return self._map.get(fold(text(value)))


YES_WORDS = ("yes", "y", "true", "1", "是", "√", "✓")
NO_WORDS = ("no", "n", "false", "0", "否", "×", "✗")


class YesNo:
    """Yes or no as people write it, in any language; an empty cell is no."""

    @cached_property
    def _map(self) -> dict[str, bool]:
        mapping = {fold(word): True for word in YES_WORDS}
        mapping.update({fold(word): False for word in NO_WORDS})
        mapping.update(dict.fromkeys(labels(gettext_lazy("yes")), True))
        mapping.update(dict.fromkeys(labels(gettext_lazy("no")), False))
        return mapping

    def parse(self, value: Any) -> bool | None:
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        return self._map.get(fold(text(value)))


yes_no = YesNo()
