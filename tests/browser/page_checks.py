"""Outside checkers for the pages the browser tests open.

- axe-core (npm, `node_modules/axe-core`): accessibility rules, evaluated in the
  page through Playwright (DevTools evaluation is not subject to the page's
  Content-Security-Policy, so the site's CSP stays on while it runs);
- the Nu HTML checker (npm `vnu-jar`, run with the machine's Java) on the HTML
  the server sent;
- scroll boxes: no element whose content is wider than the box it scrolls in,
  so nothing a tablet user needs is hidden beside the screen.

`make test` and `.ci/run` install both packages (`npm ci`); without them these
checks skip with the reason, and fail in CI.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from django.conf import settings

from tests.conftest import missing

NODE_MODULES = Path(settings.BASE_DIR) / "node_modules"
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
VNU = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"

# htmx's attributes are not HTML's; the checker is told to pass over exactly those.
VNU_IGNORED = r".*Attribute “hx-[a-z-]+” not allowed on element.*"

BLOCKING_IMPACTS = ("critical", "serious")


def require_checkers() -> None:
    """Skip (fail in CI) when the npm packages or Java are not installed."""
    if not AXE.exists() or not VNU.exists():
        missing("the page checkers are not installed: run `npm ci` (make test does)")
    if shutil.which("java") is None:
        missing("the Nu HTML checker needs Java (`apt-get install default-jre-headless`)")


def axe_violations(page) -> list[str]:
    """The critical and serious axe-core violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"""
    )
    return [
        f"axe {v['impact']} {v['id']} ({v['help']}): {', '.join(v['nodes'])}"
        for v in found
        if v["impact"] in BLOCKING_IMPACTS
    ]


def scroll_box_overflows(page) -> list[str]:
    """Elements that scroll sideways because their content is wider than they are:
    on a tablet the columns beyond the edge are out of sight."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('body *')).filter(el => {
              const style = getComputedStyle(el);
              if (!['auto', 'scroll'].includes(style.overflowX)) return false;
              return el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0;
            }).map(el => {
              const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                + (el.className && typeof el.className === 'string'
                   ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
              return `${name} shows ${el.clientWidth} of ${el.scrollWidth} px`;
            })"""
    )


def html_errors(documents: dict[str, str]) -> list[str]:
    """Errors the Nu HTML checker finds in each named HTML document."""
    if not documents:
        return []
    with tempfile.TemporaryDirectory() as folder:
        names: dict[str, str] = {}
        for index, (name, html) in enumerate(documents.items()):
            path = Path(folder) / f"{index:03d}.html"
            path.write_text(html, encoding="utf-8")
            names[path.name] = name
        result = subprocess.run(
            [
                "java",
                "-jar",
                str(VNU),
                "--format",
                "json",
                "--stdout",
                "--errors-only",
                "--filterpattern",
                VNU_IGNORED,
                *sorted(str(Path(folder) / f"{i:03d}.html") for i in range(len(documents))),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    report = json.loads(result.stdout or "{}")
    errors = []
    for message in report.get("messages", []):
        if message.get("type") != "error":
            continue
        url = message.get("url", "")
        where = names.get(url.rsplit("/", 1)[-1], url)
        line = message.get("lastLine", "?")
        text = re.sub(r"\s+", " ", message.get("message", ""))
        errors.append(f"{where}:{line}: {text}")
    return errors
