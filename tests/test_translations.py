"""The Indonesian and Dutch catalogues cover every string the code marks.

`makemessages` runs over a temporary copy of locale/ (the real one is left as
it is): any marked string missing from a catalogue, any fuzzy or untranslated
entry, and any msgstr whose placeholders differ from its msgid's fails here.
To fix: `make messages`, translate what it lists (GLOSSARY.md has the terms).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import polib
import pytest
from django.conf import settings

from desk.translations import LANGUAGES, catalogue_problems, fresh_catalogue_problems, placeholders
from tests.conftest import missing

LOCALE = Path(settings.BASE_DIR) / "locale"


def test_every_marked_string_is_translated_in_both_catalogues() -> None:
    problems = fresh_catalogue_problems()
    assert [str(problem) for problem in problems] == []


def test_the_catalogues_are_not_empty() -> None:
    for language in LANGUAGES:
        entries = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
        assert len(entries.translated_entries()) > 1000, language


@pytest.mark.parametrize("language", LANGUAGES)
def test_gnu_msgfmt_accepts_the_catalogue(language: str) -> None:
    if shutil.which("msgfmt") is None:
        missing("needs GNU gettext's msgfmt (apt-get install gettext)")
    result = subprocess.run(
        [
            "msgfmt",
            "--check",
            "-o",
            "/dev/null",
            str(LOCALE / language / "LC_MESSAGES" / "django.po"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_placeholders_are_found_in_every_style() -> None:
    assert placeholders("%(count)d of %(total)s, %s and %d, {name} {0} {}, 50%%") == sorted(
        ["%(count)d", "%(total)s", "%s", "%d", "{name}", "{0}", "{}"]
    )
    assert placeholders("%(change)+d units") == ["%(change)+d"]


def test_the_check_finds_fuzzy_untranslated_and_wrong_placeholders(tmp_path: Path) -> None:
    # given catalogues with one entry of each kind of mistake
    for language, plural_forms in (
        ("id", "nplurals=1; plural=0;"),
        ("nl", "nplurals=2; plural=(n != 1);"),
    ):
        po = polib.POFile()
        po.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Plural-Forms": plural_forms}
        po.append(polib.POEntry(msgid="Fine", msgstr="Baik" if language == "id" else "Goed"))
        po.append(polib.POEntry(msgid="Untranslated", msgstr=""))
        po.append(polib.POEntry(msgid="Fuzzy", msgstr="Kabur", flags=["fuzzy"]))
        po.append(polib.POEntry(msgid="%(count)d lines", msgstr="%(jumlah)d baris"))
        po.append(
            polib.POEntry(
                msgid="%(n)s line",
                msgid_plural="%(n)s lines",
                msgstr_plural={0: "satu baris"}
                if language == "id"
                else {0: "één regel", 1: "regels"},
            )
        )
        (tmp_path / language / "LC_MESSAGES").mkdir(parents=True)
        po.save(str(tmp_path / language / "LC_MESSAGES" / "django.po"))

    # when the catalogues are checked
    found = {(p.language, p.msgid, p.reason) for p in catalogue_problems(tmp_path)}

    # then each mistake is named, and the good entries are not
    assert found == {
        (language, msgid, reason)
        for language in ("id", "nl")
        for msgid, reason in (
            ("Untranslated", "untranslated"),
            ("Fuzzy", "fuzzy"),
            ("%(count)d lines", "placeholders differ"),
            ("%(n)s line", "placeholders differ"),
        )
    }
