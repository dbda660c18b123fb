from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from desk import accounts

admin.site.site_header = _("Backorder Desk administration")
admin.site.site_title = _("Backorder Desk admin")

urlpatterns = [
    # Before Django's own, which it replaces: the same page, throttled. An include,
    # as Django's own account views are, so it is walked as one of them.
    path(
        "accounts/",
        include([path("password_reset/", accounts.password_reset, name="password_reset")]),
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    # The shop platforms' webhooks (signed by the platform, not a login).
    path("hooks/", include("api.hooks.urls")),
    path("", include("desk.urls")),
]
