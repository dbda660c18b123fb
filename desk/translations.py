"""Checks the Indonesian and Dutch catalogues against the strings the code marks.

`manage.py check_translations` (and `make untranslated`) runs makemessages into
a temporary copy of `locale/` and lists every entry that is missing from a
catalogue, untranslated, fuzzy, or whose placeholders differ from its msgid's.
tests/test_translations.py fails on the same list.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

LANGUAGES = ("id", "nl")
MAKEMESSAGES_IGNORE = [
    ".venv",
    "node_modules",
    "bench",
    "tests",
    "build",
    "staticfiles",
    ".git",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
]
# %(name)s, %s, %d, %% and {name} / {0} / {}.
PLACEHOLDER = re.compile(
    r"%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]"  # %(name)s, %(count)d, %(change)+d
    r"|%[-#0 +]*\d*(?:\.\d+)?[sdirfx]"  # %s, %d
    r"|\{[^{}]*\}"  # {name}, {0}, {}
)


@dataclass(frozen=True)
class Problem:
    language: str
    msgid: str
    reason: str

    def __str__(self) -> str:
        return f"[{self.language}] {self.reason}: {self.msgid!r}"


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text.replace("%%", "")))


def catalogue_problems(locale_dir: Path) -> list[Problem]:
    """What is wrong with the catalogues in `locale_dir` as they stand."""
    import polib  # a development dependency: the check runs in the suite and by hand

    problems: list[Problem] = []
    for language in LANGUAGES:
        path = locale_dir / language / "LC_MESSAGES" / "django.po"
        if not path.exists():
            problems.append(Problem(language, str(path), "no catalogue"))
            continue
        for entry in polib.pofile(str(path)):
            if entry.obsolete:
                continue
            if "fuzzy" in entry.flags:
                problems.append(Problem(language, entry.msgid, "fuzzy"))
            if entry.msgid_plural:
                forms = [entry.msgstr_plural.get(k, "") for k in sorted(entry.msgstr_plural)]
                if not forms or not all(forms):
                    problems.append(Problem(language, entry.msgid, "untranslated"))
                    continue
                # The first form may leave out what only the plural names ("one
                # line" for %(count)d), unless it is the only form the language has.
                singular, plural = placeholders(entry.msgid), placeholders(entry.msgid_plural)
                first = [singular, plural] if len(forms) > 1 else [plural]
                if placeholders(forms[0]) not in first or any(
                    placeholders(form) != plural for form in forms[1:]
                ):
                    problems.append(Problem(language, entry.msgid, "placeholders differ"))
            elif not entry.msgstr:
                problems.append(Problem(language, entry.msgid, "untranslated"))
            elif placeholders(entry.msgstr) != placeholders(entry.msgid):
                problems.append(Problem(language, entry.msgid, "placeholders differ"))
    return problems


def fresh_catalogue_problems() -> list[Problem]:
    """makemessages over a copy of the catalogues, then `catalogue_problems`:
    a string marked in the code but missing from a catalogue shows up as
    untranslated. The real `locale/` is not touched."""
    base = Path(settings.BASE_DIR)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "locale"
        shutil.copytree(base / "locale", copy)
        original = list(settings.LOCALE_PATHS)
        settings.LOCALE_PATHS = [copy]
        cwd = os.getcwd()
        os.chdir(base)
        try:
            call_command(
                "makemessages",
                locale=list(LANGUAGES),
                ignore_patterns=MAKEMESSAGES_IGNORE,
                no_obsolete=True,
                verbosity=0,
            )
        finally:
            os.chdir(cwd)
            settings.LOCALE_PATHS = original
        return catalogue_problems(copy)
