"""What moved a promise, in the reader's language.

The services record a promise revision's cause in English
(`PromiseRevision.cause`, e.g. "SO-0001042 placed", "PO-000025 expected date
moved"): it is data, kept as written. The order page shows it through
`promise_cause`, which recognises the causes the services write and says them
in the active language; any other text is shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django import template
from django.utils.translation import gettext as _

register = template.Library()

DOCUMENT = r"(?P<doc>\S+)"

# (pattern, the words in the reader's language); most specific first.
CAUSES: tuple[tuple[re.Pattern[str], Callable[[dict[str, str]], str]], ...] = (
    (
        re.compile(r"(?P<order>\S+): (?P<old>\S+) substituted with (?P<new>\S+)"),
        lambda m: _("%(order)s: %(old)s substituted with %(new)s") % m,
    ),
    (re.compile(rf"{DOCUMENT} cancelled in part"), lambda m: _("%(doc)s cancelled in part") % m),
    (
        re.compile(rf"{DOCUMENT} expected date moved"),
        lambda m: _("%(doc)s expected date moved") % m,
    ),
    (re.compile(rf"{DOCUMENT} placed"), lambda m: _("%(doc)s placed") % m),
    (re.compile(rf"{DOCUMENT} cancelled"), lambda m: _("%(doc)s cancelled") % m),
    (re.compile(rf"{DOCUMENT} ordered"), lambda m: _("%(doc)s ordered") % m),
    (re.compile(rf"{DOCUMENT} confirmed"), lambda m: _("%(doc)s confirmed") % m),
    (re.compile(rf"{DOCUMENT} received"), lambda m: _("%(doc)s received") % m),
    (re.compile(r"stock adjusted"), lambda m: _("stock adjusted")),
    (re.compile(r"queue priority changed"), lambda m: _("queue priority changed")),
    (re.compile(r"promised date passed"), lambda m: _("promised date passed")),
    (
        re.compile(r"Daily check: promised date passed"),
        lambda m: _("Daily check: promised date passed"),
    ),
)


@register.filter
def promise_cause(cause: str) -> str:
    """`{{ revision.cause|promise_cause }}`"""
    for pattern, words in CAUSES:
        match = pattern.fullmatch(cause or "")
        if match:
            return words(match.groupdict())
    return cause
