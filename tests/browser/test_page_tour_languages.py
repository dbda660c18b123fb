"""The page tour (test_page_tour.py) in Bahasa Indonesia and Dutch, at laptop width.

Indonesian and Dutch words run longer than English ("Backorderwachtrij",
"Pesanan pembelian"): every page of the tour must still fit a 1366 px laptop
without a sideways scroll, hide nothing in a sideways-scrolling box, and be in
the reader's language. Screenshots go to build/screenshots/tour-<lang>-*.png.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import translation
from django.utils.translation import gettext

from desk.models import StaffPreference
from tests.browser.page_checks import scroll_box_overflows
from tests.browser.test_page_tour import log_in, tour

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = (1366, 768)


@pytest.mark.parametrize("language", ["id", "nl"])
def test_every_page_fits_a_laptop_in_indonesian_and_dutch(
    live_server, page, screenshot, language: str
) -> None:
    call_command("load_demo", verbosity=0)
    for user in User.objects.all():
        StaffPreference.objects.update_or_create(user=user, defaults={"language": language})
    with translation.override(language):
        menu_queue = gettext("Backorder queue")
    assert menu_queue != "Backorder queue"
    page.set_viewport_size({"width": LAPTOP[0], "height": LAPTOP[1]})
    problems: list[str] = []
    current_user = None
    for stop in tour():
        if stop.username != current_user:
            log_in(page, live_server, stop.username)
            current_user = stop.username
        response = page.goto(f"{live_server.url}{stop.path}")
        assert response is not None and response.status == 200, (stop.name, response)
        page.wait_for_load_state("networkidle")
        if page.locator("html").get_attribute("lang") != language:
            problems.append(f"{stop.name}: not in {language}")
        topbar = page.locator("header.topbar")
        if topbar.count() and menu_queue not in topbar.inner_text():
            problems.append(f"{stop.name}: the menu is not in {language}")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 0:
            problems.append(f"{stop.name} is {overflow}px wider than a {LAPTOP[0]} px laptop")
        problems.extend(f"{stop.name}: {box}" for box in scroll_box_overflows(page))
        screenshot(f"tour-{language}-{stop.name}")
    assert not problems, "\n".join(problems)
