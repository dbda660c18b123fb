from django.urls import path

from notifications import views

urlpatterns = [
    path("c/<str:token>/", views.customer_link, name="customer-link"),
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/<int:notification_id>/", views.outbox_message, name="outbox-message"),
    path(
        "outbox/<int:notification_id>/resend/",
        views.outbox_message_resend,
        name="outbox-message-resend",
    ),
    path("policy/", views.policy, name="policy"),
]
