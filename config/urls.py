from django.contrib import admin
from django.urls import include, path

from config import views
from desk import accounts
from notifications import views as notification_views

admin.site.site_header = "Backorder Desk administration"
admin.site.site_title = "Backorder Desk admin"

urlpatterns = [
    path("", views.home, name="home"),
    # Before Django's own, which it replaces: the same page, throttled. An include,
    # as Django's own account views are, so it is walked as one of them.
    path(
        "accounts/",
        include([path("password_reset/", accounts.password_reset, name="password_reset")]),
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    # Before orders.urls, whose "purchase-orders/<str:number>/" would take "new"
    # for a number. The view lives with the other purchasing actions that tell
    # customers (notifications.views).
    path(
        "purchase-orders/new/",
        notification_views.purchase_order_new,
        name="purchase-order-new",
    ),
    path("", include("orders.urls")),
    path("", include("notifications.urls")),
]
