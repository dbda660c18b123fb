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
    path(
        "purchase-orders/<str:number>/receive/submit/",
        views.purchase_order_receive_submit,
        name="purchase-order-receive-submit",
    ),
    path(
        "purchase-orders/<str:number>/move-date/preview/",
        views.purchase_order_move_preview,
        name="purchase-order-move-preview",
    ),
    path(
        "purchase-orders/<str:number>/move-date/",
        views.purchase_order_move,
        name="purchase-order-move",
    ),
]
