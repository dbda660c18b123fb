"""Carriers an order may ship with, and the tracking number format of each.

A carrier with a known format checks the number against it; an order without a
carrier (or an "other" carrier) takes any 4 to 40 letters, digits and dashes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class Carrier(models.TextChoices):
    NOT_SAID = "", _("Not said")
    JNE = "jne", "JNE"
    SICEPAT = "sicepat", "SiCepat"
    POS_INDONESIA = "pos_id", "Pos Indonesia"
    POSTNL = "postnl", "PostNL"
    DHL = "dhl", "DHL Express"
    UPS = "ups", "UPS"
    OTHER = "other", _("Other carrier")


@dataclass(frozen=True)
class TrackingFormat:
    pattern: re.Pattern[str]
    example: str


TRACKING_FORMATS: dict[str, TrackingFormat] = {
    Carrier.JNE: TrackingFormat(re.compile(r"[A-Z0-9]{10,16}"), "CGK1234567890"),
    Carrier.SICEPAT: TrackingFormat(re.compile(r"\d{12}"), "000123456789"),
    Carrier.POS_INDONESIA: TrackingFormat(re.compile(r"[A-Z]{2}\d{9}ID"), "RR123456789ID"),
    Carrier.POSTNL: TrackingFormat(re.compile(r"3S[A-Z0-9]{11,13}"), "3SABCD1234567"),
    Carrier.DHL: TrackingFormat(re.compile(r"\d{10}"), "1234567890"),
    Carrier.UPS: TrackingFormat(re.compile(r"1Z[A-Z0-9]{16}"), "1Z999AA10123456784"),
}

ANY_TRACKING = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{2,38}[A-Za-z0-9]")


def tracking_example(carrier: str) -> str:
    """A tracking number of the carrier's format, for a field's placeholder."""
    known = TRACKING_FORMATS.get(carrier)
    return known.example if known is not None else "TRK-12345"


def tracking_number_check(tracking_number: str, *, carrier: str) -> str:
    """The tracking number as it is stored (trimmed; upper case for a known
    format), or a ValidationError on `tracking_number` saying what it should look like."""
    number = (tracking_number or "").strip()
    if not number:
        raise ValidationError({"tracking_number": _("Enter the carrier's tracking number.")})
    known = TRACKING_FORMATS.get(carrier)
    if known is not None:
        compact = number.replace(" ", "").upper()
        if known.pattern.fullmatch(compact):
            return compact
        raise ValidationError(
            {
                "tracking_number": _(
                    "%(number)s is not a %(carrier)s tracking number (like %(example)s)."
                )
                % {
                    "number": number[:64],
                    "carrier": Carrier(carrier).label,
                    "example": known.example,
                }
            },
            code="tracking_format",
        )
    if ANY_TRACKING.fullmatch(number):
        return number
    raise ValidationError(
        {
            "tracking_number": _(
                "A tracking number has 4 to 40 letters, digits and dashes (like %(example)s)."
            )
            % {"example": "TRK-12345"}
        },
        code="tracking_format",
    )
