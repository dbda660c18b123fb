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
    path(
        "purchase-orders/<str:number>/confirm/",
        views.purchase_order_confirm,
        name="purchase-order-confirm",
    ),
    path(
        "purchase-orders/<str:number>/cancel/preview/",
        views.purchase_order_cancel_preview,
        name="purchase-order-cancel-preview",
    ),
    path(
        "purchase-orders/<str:number>/cancel/",
        views.purchase_order_cancel,
        name="purchase-order-cancel",
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
    path(
        "queue/lines/<int:line_id>/priority/",
        views.queue_line_priority,
        name="queue-line-priority",
    ),
    path("queue/lines/<int:line_id>/cancel/", views.queue_line_cancel, name="queue-line-cancel"),
    path("queue/jobs/", views.queue_jobs, name="queue-jobs"),
    path("queue/jobs/<int:job_id>/", views.queue_job, name="queue-job"),
]

# The delays page and its customer-service actions (the page composes
# notifications data, so it lives here with its actions).
urlpatterns += [
    path("delays/", views.delays, name="delays"),
    path(
        "delays/customers/<int:customer_id>/note/",
        views.delay_customer_note,
        name="delay-customer-note",
    ),
    path(
        "delays/customers/<int:customer_id>/discount/",
        views.delay_discount,
        name="delay-discount",
    ),
    path(
        "delays/customers/<int:customer_id>/internal-note/",
        views.delay_order_note,
        name="delay-order-note",
    ),
    path(
        "delays/customers/<int:customer_id>/lines/<int:line_id>/substitute/",
        views.delay_line_substitute,
        name="delay-line-substitute",
    ),
    path(
        "delays/customers/<int:customer_id>/lines/<int:line_id>/cancel/",
        views.delay_line_cancel,
        name="delay-line-cancel",
    ),
]
