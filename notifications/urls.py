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
    path("shipping/<str:number>/ship/", views.order_ship, name="order-ship"),
    path("products/<str:sku>/adjust/", views.product_adjust, name="product-adjust"),
    path("orders/<str:number>/messages/", views.order_messages, name="order-messages"),
    path(
        "orders/<str:number>/lines/<int:line_id>/cancel/",
        views.order_line_cancel,
        name="order-line-cancel",
    ),
    path(
        "orders/<str:number>/lines/<int:line_id>/priority/",
        views.order_line_priority,
        name="order-line-priority",
    ),
    path(
        "customers/<int:customer_id>/messages/",
        views.customer_messages,
        name="customer-messages",
    ),
    path("dashboard/", views.dashboard, name="dashboard"),
]
