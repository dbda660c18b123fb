from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.utils.translation import gettext_lazy as _

from desk.staff_language import remember_on_login


class DeskConfig(AppConfig):
    name = "desk"
    verbose_name = _("Back office")

    def ready(self) -> None:
        user_logged_in.connect(remember_on_login, dispatch_uid="desk.remember_language_on_login")
