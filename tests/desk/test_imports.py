"""The imports page (`/imports/`): upload → the check's preview → apply; who
imports which kind; bad files answered with a reason; a long file as a
background job with a progress bar; the lists' CSV exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.roles import Role
from inventory.models import Product, StockMove, StockMoveKind
from notifications import tasks
from notifications.models import ImportJob, ImportJobStatus
from orders.models import Customer
from suppliers.models import PurchaseOrder
from suppliers.services import PurchaseLineRequest, purchase_order_create
from tests.conftest import Shop
from tests.factories import CustomerFactory, ProductFactory, SupplierFactory

pytestmark = pytest.mark.django_db

IMPORTS = "/imports/"
HX = {"HX-Request": "true"}
PRODUCTS = b"sku,name,price,policy,cap\nNEW-1,New one,12.50,allow,\nNEW-2,Other,3.00,cap,5\n"


def upload(client: Client, kind: str, content: bytes, name: str = "file.csv"):
    return client.post(IMPORTS, {"kind": kind, "file": SimpleUploadedFile(name, content)})


def test_urls() -> None:
    assert reverse("imports") == IMPORTS
    assert reverse("import-job", args=[4]) == "/imports/4/"
    assert reverse("import-job-apply", args=[4]) == "/imports/4/apply/"
    assert reverse("products-export") == "/products/export.csv"
    assert reverse("stock-counts-export") == "/products/stock-counts.csv"
    assert reverse("customers-export") == "/customers/export.csv"
    assert reverse("purchase-orders-export") == "/purchase-orders/export.csv"


def test_upload_preview_apply(client_as: Callable[..., Client]) -> None:
    client = client_as(Role.PURCHASING)
    ProductFactory.create(sku="NEW-2", name="Other", price=Decimal("3.00"))

    # upload: checked at once (a short file), nothing written
    response = upload(client, "products", PRODUCTS)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/"
    assert (job.status, job.total, job.created_by) == (
        ImportJobStatus.CHECKED,
        2,
        response.wsgi_request.user,
    )
    assert not Product.objects.filter(sku="NEW-1").exists()

    # the preview: counts, the rows it changes, the apply button
    page = client.get(job_url := f"/imports/{job.pk}/").content.decode()
    assert '<dd class="num-inline" data-count="new">1</dd>' in page
    assert '<dd class="num-inline" data-count="changed">1</dd>' in page
    assert "Apply: 1 new, 1 changed" in page
    assert 'id="import-errors"' not in page

    # apply
    response = client.post(f"{job_url}apply/")
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJobStatus.DONE and job.applied_by == response.wsgi_request.user
    assert Product.objects.get(sku="NEW-2").backorder_policy == "cap"
    page = client.get(job_url).content.decode()
    assert "The file is applied" in page and "Applied by" in page

    # applying again (a double click) changes nothing and says so
    response = client.post(f"{job_url}apply/")
    assert response.status_code == 409
    assert "applied already" in response.content.decode()


def test_a_file_with_a_bad_row_shows_every_error_and_cannot_be_applied(
    client_as: Callable[..., Client],
) -> None:
    client = client_as(Role.PURCHASING)
    content = PRODUCTS + b"BAD-1,Bad,abc,allow,\nBAD-2,Bad,1,never,\n"
    upload(client, "products", content)
    job = ImportJob.objects.get()
    assert job.status == ImportJobStatus.INVALID

    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert '<dd class="num-inline" data-count="invalid">2</dd>' in page
    assert '<td class="num">4</td><td>BAD-1</td>' in page
    assert "price “abc”: enter a number such as 12.50" in page
    assert '<td class="num">5</td><td>BAD-2</td>' in page
    assert "nothing will be applied" in page
    assert 'id="import-apply"' not in page

    response = client.post(f"/imports/{job.pk}/apply/")
    assert response.status_code == 409
    assert "no bad rows can be applied" in response.content.decode()
    assert not Product.objects.filter(sku__startswith="NEW-").exists()


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"\x00\x01\x02PK", "sheet.xlsx", "This is not a CSV file"),
        ("sku,name,price,policy\nA,Caf\u00e9,1,allow\n".encode("cp1252"), "f.csv", "not UTF-8"),
        (b"sku,name\nA,B\n", "f.csv", "Columns missing: price, policy"),
        (b"", "f.csv", "The submitted file is empty."),
    ],
)
def test_bad_files_get_a_clear_message_and_no_job(
    client_as: Callable[..., Client], content: bytes, name: str, message: str
) -> None:
    response = upload(client_as(Role.PURCHASING), "products", content, name)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_file_too_big_gets_a_clear_message(
    client_as: Callable[..., Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("desk.imports.MAX_IMPORT_BYTES", 1024 * 1024)
    content = b"sku,name,price,policy\n" + b"SKU-1,Name,1.00,allow\n" * 60_000
    response = upload(client_as(Role.PURCHASING), "products", content)
    assert response.status_code == 400
    assert "The file is 1.3 MB; at most 1 MB can be imported at once." in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("role", "kinds"),
    [
        (Role.PURCHASING, ["products", "purchase_orders"]),
        (Role.WAREHOUSE, ["stock_counts"]),
        (Role.CUSTOMER_SERVICE, ["customers"]),
    ],
)
def test_each_role_imports_its_own_kinds(
    client_as: Callable[..., Client], role: Role, kinds: list[str]
) -> None:
    client = client_as(role)
    page = client.get(IMPORTS)
    offered = page.context["form"].fields["kind"].choices
    assert [value for value, _label in offered] == kinds
    for kind in {"products", "purchase_orders", "stock_counts", "customers"} - set(kinds):
        response = upload(client, kind, b"a,b\n1,2\n")
        assert response.status_code == 400
        assert "Select a valid choice" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_another_roles_job_is_403(client_as: Callable[..., Client]) -> None:
    upload(client_as(Role.PURCHASING), "products", PRODUCTS)
    job = ImportJob.objects.get()
    warehouse = client_as(Role.WAREHOUSE)
    assert warehouse.get(f"/imports/{job.pk}/").status_code == 403
    assert warehouse.post(f"/imports/{job.pk}/apply/").status_code == 403
    assert not Product.objects.filter(sku="NEW-1").exists()
    assert client_as(Role.PURCHASING).get("/imports/999999/").status_code == 404


def test_stock_counts_through_the_page(client_as: Callable[..., Client], shop: Shop) -> None:
    product = shop.product(sku="A-1")
    shop.receive(product, 5)
    client = client_as(Role.WAREHOUSE)
    upload(client, "stock_counts", b"warehouse,sku,counted\nMAIN,A-1,8\n")
    job = ImportJob.objects.get()
    assert "MAIN · A-1 (5 → 8)" in client.get(f"/imports/{job.pk}/").content.decode()
    client.post(f"/imports/{job.pk}/apply/")
    move = StockMove.objects.get(kind=StockMoveKind.ADJUSTMENT)
    assert (move.on_hand_change, move.note) == (3, "count")


def test_a_long_file_runs_in_the_background_with_a_progress_bar(
    client_as: Callable[..., Client],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks,
) -> None:
    monkeypatch.setattr("notifications.updates.imports.INLINE_IMPORT_ROWS", 1)
    client = client_as(Role.PURCHASING)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        upload(client, "products", PRODUCTS)
    job = ImportJob.objects.get()
    assert job.status == ImportJobStatus.CHECKING and len(callbacks) == 1

    # the page polls the card while the worker runs
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert '<meta http-equiv="refresh" content="2">' in page
    assert f'hx-get="/imports/{job.pk}/" hx-trigger="every 1s"' in page
    assert '<progress id="import-job-progress" value="0" max="2"' in page
    assert client.get(f"/imports/{job.pk}/", headers=HX).status_code == 200

    # the worker checks it; the next poll stops the bar (286) with an event
    tasks.run_import_job(job.pk)
    response = client.get(f"/imports/{job.pk}/", headers=HX)
    assert response.status_code == 286
    assert json.loads(response["HX-Trigger"])["importJobFinished"]["status"] == "checked"
    assert "<progress" not in response.content.decode()

    # apply in the background too; running the task twice applies once
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(f"/imports/{job.pk}/apply/")
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.status == ImportJobStatus.APPLYING
    assert not Product.objects.filter(sku="NEW-1").exists()
    assert tasks.run_import_job(job.pk) == ImportJobStatus.DONE
    assert tasks.run_import_job(job.pk) == ImportJobStatus.DONE
    assert Product.objects.filter(sku__in=["NEW-1", "NEW-2"]).count() == 2


def test_pages_run_a_fixed_number_of_queries(
    client_as: Callable[..., Client], django_assert_max_num_queries
) -> None:
    client = client_as(Role.PURCHASING)
    for _ in range(3):
        upload(client, "products", PRODUCTS)
    job = ImportJob.objects.first()
    assert job is not None
    with django_assert_max_num_queries(6):
        assert client.get(IMPORTS).status_code == 200
    with django_assert_max_num_queries(6):
        assert client.get(f"/imports/{job.pk}/").status_code == 200


# --- exports -----------------------------------------------------------------------


def rows_of(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_exports_stream_the_import_formats_in_fixed_queries(
    client_as: Callable[..., Client], shop: Shop, django_assert_max_num_queries
) -> None:
    client = client_as(Role.WAREHOUSE)
    for n in range(3):
        product = shop.product(sku=f"E-{n}", price=Decimal("1234.50"))
        shop.receive(product, n + 1)
    CustomerFactory.create(email="ann@example.com", name="Ann")

    for url in (
        "/products/export.csv",
        "/products/stock-counts.csv",
        "/customers/export.csv",
        "/purchase-orders/export.csv",
    ):
        with django_assert_max_num_queries(5):
            response = client.get(url)
            rows = rows_of(response)
        assert response["Content-Type"] == "text/csv; charset=utf-8", url
        assert "attachment" in response["Content-Disposition"]
        assert rows, url

    products = rows_of(client.get("/products/export.csv"))
    assert products[0]["sku"] == "E-0" and products[0]["price"] == "1234.50"
    counts = rows_of(client.get("/products/stock-counts.csv"))
    assert [(r["warehouse"], r["sku"], r["counted"]) for r in counts] == [
        ("MAIN", "E-0", "1"),
        ("MAIN", "E-1", "2"),
        ("MAIN", "E-2", "3"),
    ]
    lines = rows_of(client.get("/purchase-orders/export.csv"))
    assert {"supplier", "warehouse", "sku", "quantity", "expected_date", "reference"} <= set(
        lines[0]
    )
    assert rows_of(client.get("/customers/export.csv"))[0]["email"] == "ann@example.com"


def test_an_export_imported_again_changes_nothing(
    client_as: Callable[..., Client], shop: Shop
) -> None:
    supplier = SupplierFactory.create(name="Acme")
    product = shop.product(sku="E-1")
    shop.receive(product, 4)
    CustomerFactory.create(email="ann@example.com", name="Ann")
    purchase_order_create(
        supplier=supplier,
        warehouse=shop.warehouse,
        lines=[PurchaseLineRequest(product, 3)],
        expected_date=timezone.localdate() + dt.timedelta(days=9),
        by=None,
    )
    admin = client_as(superuser=True)
    for kind, url in (
        ("products", "/products/export.csv"),
        ("stock_counts", "/products/stock-counts.csv"),
        ("customers", "/customers/export.csv"),
    ):
        content = b"".join(admin.get(url).streaming_content)  # type: ignore[attr-defined]
        upload(admin, kind, content)
        job = ImportJob.objects.order_by("-pk").first()
        assert job is not None
        assert job.status == ImportJobStatus.CHECKED, (kind, job.result)
        rows = job.result["rows"]
        assert rows and {row["status"] for row in rows} == {"unchanged"}, kind
    assert PurchaseOrder.objects.count() == 2 and Customer.objects.count() == 1
