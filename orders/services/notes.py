"""One-time form tokens and internal order notes (the delays page)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from config.roles import acting_user
from orders.models import (
    FormSubmission,
    OrderNote,
    SalesOrder,
)


def form_submission_record(*, token: str, action: str, by: User | None) -> None:
    """Spend a form's one-time token inside the caller's transaction.

    Raises ValidationError when the token was spent before: the same form
    submitted twice (a double click, a resent POST) applies once. Two submits
    that arrive together both insert; the unique token makes the second wait
    for the first and then fail, so its whole transaction rolls back.
    """
    token = (token or "").strip()
    if not token or len(token) > 64:
        raise ValidationError({"token": _("This form is out of date: reload the page.")})
    try:
        with transaction.atomic():
            FormSubmission.objects.create(
                token=token, action=action[:64], submitted_by=acting_user(by)
            )
    except IntegrityError as error:
        raise ValidationError(
            _("This form was already submitted: nothing was done a second time."),
            code="already_submitted",
        ) from error


ORDER_NOTE_MAX_LENGTH = 2000


@transaction.atomic
def order_note_add(*, order: SalesOrder, body: str, by: User | None, token: str = "") -> OrderNote:
    """Write an internal note on an order (never sent to the customer).

    With `token` (the form's one-time token) a second submit of the same form
    writes nothing and raises ValidationError.
    """
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("Write the note first.")})
    if len(body) > ORDER_NOTE_MAX_LENGTH:
        raise ValidationError(
            {"body": _("A note has at most %(max)d characters.") % {"max": ORDER_NOTE_MAX_LENGTH}}
        )
    if token:
        form_submission_record(token=token, action="order_note_add", by=by)
    return OrderNote.objects.create(order=order, body=body, author=acting_user(by))
