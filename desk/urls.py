"""Every staff URL, and the customer link pages; config/urls.py only includes this."""

from django.urls import URLPattern, URLResolver, path, register_converter

from desk import (
    customer_links,
    dashboard,
    delays,
    delays_actions,
    exports,
    home,
    imports,
    language,
    lists,
    order_delivery,
    order_new,
    orders,
    outbox,
    policy,
    product_bins,
    products,
    purchase_order_new,
    purchase_order_sku,
    purchasing,
    queue,
    queue_jobs,
    receiving,
    refunds,
    shipping,
    shop_deliveries,
    shop_events,
    shortfall,
    suppliers,
    transfers,
)
from desk.converters import RowIdConverter

# Ids in paths are <id:…>: bounded, so an id no row can have is a 404, not a 500.
register_converter(RowIdConverter, "id")

urlpatterns: list[URLPattern | URLResolver] = [
    # home
    path("", home.home, name="home"),
    # queue
    path("queue/", queue.queue, name="queue"),
    path("queue/export.csv", queue.queue_export, name="queue-export"),
    path(
        "queue/lines/<id:line_id>/priority/", queue.queue_line_priority, name="queue-line-priority"
    ),
    path("queue/lines/<id:line_id>/cancel/", queue.queue_line_cancel, name="queue-line-cancel"),
    # queue jobs
    path("queue/jobs/", queue_jobs.queue_jobs, name="queue-jobs"),
    path("queue/jobs/<id:job_id>/", queue_jobs.queue_job, name="queue-job"),
    # receiving
    path("receiving/", receiving.receiving, name="receiving"),
    path(
        "purchase-orders/<str:number>/receive/",
        receiving.purchase_order_receive,
        name="purchase-order-receive",
    ),
    path(
        "purchase-orders/<str:number>/receive/submit/",
        receiving.purchase_order_receive_submit,
        name="purchase-order-receive-submit",
    ),
    # purchase order new
    # before purchasing's "purchase-orders/<str:number>/", which would take "new" for a number
    path("purchase-orders/new/", purchase_order_new.purchase_order_new, name="purchase-order-new"),
    path(
        "purchase-orders/new/sku/",
        purchase_order_sku.purchase_order_sku,
        name="purchase-order-sku",
    ),
    # purchasing
    path("purchase-orders/", purchasing.purchase_orders, name="purchase-orders"),
    path("purchase-orders/<str:number>/", purchasing.purchase_order, name="purchase-order"),
    path(
        "purchase-orders/<str:number>/move-date/preview/",
        purchasing.purchase_order_move_preview,
        name="purchase-order-move-preview",
    ),
    path(
        "purchase-orders/<str:number>/move-date/",
        purchasing.purchase_order_move,
        name="purchase-order-move",
    ),
    path(
        "purchase-orders/<str:number>/confirm/",
        purchasing.purchase_order_confirm,
        name="purchase-order-confirm",
    ),
    path(
        "purchase-orders/<str:number>/cancel/preview/",
        purchasing.purchase_order_cancel_preview,
        name="purchase-order-cancel-preview",
    ),
    path(
        "purchase-orders/<str:number>/cancel/",
        purchasing.purchase_order_cancel,
        name="purchase-order-cancel",
    ),
    # shortfall
    path("purchasing/shortfall/", shortfall.shortfall, name="shortfall"),
    path("purchasing/shortfall/export.csv", shortfall.shortfall_export, name="shortfall-export"),
    path("purchasing/shortfall/draft/", shortfall.shortfall_draft, name="shortfall-draft"),
    # suppliers
    path("suppliers/", suppliers.suppliers, name="suppliers"),
    path("suppliers/<id:supplier_id>/", suppliers.supplier, name="supplier"),
    path(
        "suppliers/<id:supplier_id>/terms/",
        suppliers.supplier_terms_set,
        name="supplier-terms",
    ),
    # shipping
    path("shipping/", shipping.shipping, name="shipping"),
    path("shipping/pick-list/", shipping.pick_list, name="shipping-pick-list"),
    path("shipping/<str:number>/ship/", shipping.order_ship, name="order-ship"),
    path(
        "shipping/<str:number>/packing-slip/",
        shipping.packing_slip,
        name="shipping-packing-slip",
    ),
    # lists and search (before the detail pages: "orders/" is not an order number)
    path("products/", lists.products, name="products"),
    path("orders/", lists.orders, name="orders"),
    path("customers/", lists.customers, name="customers"),
    path("search/", lists.search_page, name="search"),
    # products
    path("products/<str:sku>/", products.product, name="product"),
    path("products/<str:sku>/adjust/", products.product_adjust, name="product-adjust"),
    # order new
    # before orders' "orders/<str:number>/", which would take "new" for a number
    path("orders/new/", order_new.order_new, name="order-new"),
    path(
        "orders/new/availability/",
        order_new.order_new_availability,
        name="order-new-availability",
    ),
    # orders
    path("orders/<str:number>/", orders.order, name="order"),
    path("customers/<id:customer_id>/", orders.customer, name="customer"),
    path("orders/<str:number>/messages/", orders.order_messages, name="order-messages"),
    path(
        "orders/<str:number>/lines/<id:line_id>/cancel/",
        orders.order_line_cancel,
        name="order-line-cancel",
    ),
    path(
        "orders/<str:number>/lines/<id:line_id>/priority/",
        orders.order_line_priority,
        name="order-line-priority",
    ),
    path(
        "customers/<id:customer_id>/messages/", orders.customer_messages, name="customer-messages"
    ),
    # delays
    path("delays/", delays.delays, name="delays"),
    path(
        "delays/customers/<id:customer_id>/note/",
        delays_actions.delay_customer_note,
        name="delay-customer-note",
    ),
    path(
        "delays/customers/<id:customer_id>/discount/",
        delays_actions.delay_discount,
        name="delay-discount",
    ),
    path(
        "delays/customers/<id:customer_id>/internal-note/",
        delays_actions.delay_order_note,
        name="delay-order-note",
    ),
    path(
        "delays/customers/<id:customer_id>/lines/<id:line_id>/substitute/",
        delays_actions.delay_line_substitute,
        name="delay-line-substitute",
    ),
    path(
        "delays/customers/<id:customer_id>/lines/<id:line_id>/cancel/",
        delays_actions.delay_line_cancel,
        name="delay-line-cancel",
    ),
    # shop webhooks in
    path("shop/events/", shop_events.shop_events, name="shop-events"),
    path("shop/events/<id:event_id>/", shop_events.shop_event, name="shop-event"),
    path(
        "shop/events/<id:event_id>/retry/",
        shop_events.shop_event_retry,
        name="shop-event-retry",
    ),
    # shop webhooks out
    path("shop/deliveries/", shop_deliveries.shop_deliveries, name="shop-deliveries"),
    path(
        "shop/deliveries/<id:delivery_id>/retry/",
        shop_deliveries.shop_delivery_retry,
        name="shop-delivery-retry",
    ),
    # outbox
    path("outbox/", outbox.outbox, name="outbox"),
    path("outbox/<id:notification_id>/", outbox.outbox_message, name="outbox-message"),
    path(
        "outbox/<id:notification_id>/resend/",
        outbox.outbox_message_resend,
        name="outbox-message-resend",
    ),
    # policy
    path("policy/", policy.policy, name="policy"),
    # dashboard
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    # refunds
    path("refunds/", refunds.refunds, name="refunds"),
    path(
        "refunds/<id:refund_id>/refunded/",
        refunds.refund_mark_refunded,
        name="refund-mark-refunded",
    ),
    # customer links
    path("c/<str:token>/", customer_links.customer_link, name="customer-link"),
    # transfers between warehouses
    path("transfers/", transfers.transfers, name="transfers"),
    path(
        "transfers/<id:transfer_id>/receive/",
        transfers.transfer_receive,
        name="transfer-receive",
    ),
    # CSV imports, and the lists' exports in the same formats
    path("imports/", imports.imports, name="imports"),
    path("imports/<id:job_id>/", imports.import_job, name="import-job"),
    path("imports/<id:job_id>/apply/", imports.import_job_apply, name="import-job-apply"),
    path("products/export.csv", exports.products_export, name="products-export"),
    path("products/stock-counts.csv", exports.stock_counts_export, name="stock-counts-export"),
    path("customers/export.csv", exports.customers_export, name="customers-export"),
    path(
        "purchase-orders/export.csv",
        exports.purchase_orders_export,
        name="purchase-orders-export",
    ),
    # order delivery, bin locations
    path("orders/<str:number>/delivery/", order_delivery.order_delivery, name="order-delivery"),
    path("products/<str:sku>/bin/", product_bins.product_bin, name="product-bin"),
    path(
        "delays/customers/<id:customer_id>/actions/",
        delays_actions.delay_customer_actions,
        name="delay-customer-actions",
    ),
    # the staff member's language (the EN · ID · NL switch in the navigation)
    path("language/", language.language_switch, name="language"),
]
