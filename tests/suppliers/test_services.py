"""Purchase orders: create, confirm, cancel, move expected dates."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from suppliers.limits import latest_expected_date
from suppliers.models import ExpectedDateRevision, PurchaseOrderStatus
from suppliers.services import (
    PurchaseLineRequest,
    purchase_order_cancel,
    purchase_order_confirm,
    purchase_order_create,
    purchase_order_move_expected_date,
)
from tests.factories import ProductFactory, SupplierFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(make_user):
    buyer = make_user(username="buyer")
    po = purchase_order_create(
        supplier=SupplierFactory.create(),
        warehouse=WarehouseFactory.create(),
        lines=[
            PurchaseLineRequest(ProductFactory.create(), 10),
            PurchaseLineRequest(ProductFactory.create(), 5),
        ],
        expected_date=timezone.localdate() + dt.timedelta(days=7),
        by=buyer,
    )
    return po, buyer


def test_create_makes_a_numbered_draft_with_lines(draft) -> None:
    po, buyer = draft
    assert po.number == f"PO-{po.pk:06d}"
    assert po.status == PurchaseOrderStatus.DRAFT
    assert po.created_by == buyer
    assert sorted(po.lines.values_list("ordered", flat=True)) == [5, 10]
    assert {line.expected_date for line in po.lines.all()} == {po.expected_date}


@pytest.mark.parametrize("quantity", [0, -3, 1.5])
def test_create_refuses_bad_quantities_and_saves_nothing(make_user, quantity) -> None:
    from suppliers.models import PurchaseOrder

    product = ProductFactory.create(sku="BAD-Q")
    with pytest.raises(ValidationError, match="BAD-Q: enter a whole number"):
        purchase_order_create(
            supplier=SupplierFactory.create(),
            warehouse=WarehouseFactory.create(),
            lines=[PurchaseLineRequest(product, quantity)],
            expected_date=timezone.localdate(),
            by=None,
        )
    assert not PurchaseOrder.objects.exists()


def test_confirm_then_cancel(draft) -> None:
    po, buyer = draft
    purchase_order_confirm(purchase_order=po, by=buyer)
    po.refresh_from_db()
    assert po.status == PurchaseOrderStatus.ORDERED and po.ordered_at is not None
    with pytest.raises(ValidationError, match="only a draft can be confirmed"):
        purchase_order_confirm(purchase_order=po, by=buyer)
    purchase_order_cancel(purchase_order=po, by=buyer)
    po.refresh_from_db()
    assert po.status == PurchaseOrderStatus.CANCELLED
    with pytest.raises(ValidationError, match="already cancelled"):
        purchase_order_cancel(purchase_order=po, by=buyer)


def test_moving_the_expected_date_writes_a_revision_per_line(draft) -> None:
    po, buyer = draft
    old = po.expected_date
    new = old + dt.timedelta(days=4)
    revisions = purchase_order_move_expected_date(
        purchase_order=po, new_date=new, reason="supplier strike", by=buyer
    )
    assert len(revisions) == 2
    revision = ExpectedDateRevision.objects.first()
    assert revision is not None
    assert (revision.old_date, revision.new_date, revision.days_moved) == (old, new, 4)
    assert (revision.reason, revision.changed_by) == ("supplier strike", buyer)
    po.refresh_from_db()
    assert po.expected_date == new
    assert set(po.lines.values_list("expected_date", flat=True)) == {new}


def test_moving_to_the_same_date_writes_nothing(draft) -> None:
    po, buyer = draft
    assert (
        purchase_order_move_expected_date(
            purchase_order=po, new_date=po.expected_date, reason="no change", by=buyer
        )
        == []
    )


def test_moving_needs_a_reason(draft) -> None:
    po, buyer = draft
    with pytest.raises(ValidationError, match="Say why the date moves"):
        purchase_order_move_expected_date(
            purchase_order=po, new_date=po.expected_date + dt.timedelta(days=1), reason="", by=buyer
        )
    assert not ExpectedDateRevision.objects.exists()


def test_moving_past_the_horizon_is_refused(draft) -> None:
    po, buyer = draft
    for new_date in (
        latest_expected_date() + dt.timedelta(days=1),
        dt.date(9999, 12, 31),
    ):
        with pytest.raises(ValidationError) as refused:
            purchase_order_move_expected_date(
                purchase_order=po, new_date=new_date, reason="typo", by=buyer
            )
        assert "check the year" in " ".join(refused.value.message_dict["new_date"])
    assert not ExpectedDateRevision.objects.exists()
    assert purchase_order_move_expected_date(
        purchase_order=po, new_date=latest_expected_date(), reason="far", by=buyer
    )


def test_create_refuses_an_expected_date_past_the_horizon(make_user) -> None:
    with pytest.raises(ValidationError) as refused:
        purchase_order_create(
            supplier=SupplierFactory.create(),
            warehouse=WarehouseFactory.create(),
            lines=[PurchaseLineRequest(ProductFactory.create(), 10)],
            expected_date=dt.date(9999, 12, 31),
            by=make_user(),
        )
    assert "check the year" in " ".join(refused.value.message_dict["expected_date"])


def test_moving_one_line_only(draft) -> None:
    po, buyer = draft
    line = po.lines.order_by("pk").first()
    new = po.expected_date + dt.timedelta(days=2)
    purchase_order_move_expected_date(
        purchase_order=po, new_date=new, reason="one late", by=buyer, line_ids=[line.pk]
    )
    dates = list(po.lines.order_by("pk").values_list("expected_date", flat=True))
    assert dates == [new, po.expected_date]
