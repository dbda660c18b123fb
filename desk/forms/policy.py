"""The compensation policy form: what the shop gives customers whose date slips."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from notifications.limits import POLICY_LIMITS
from notifications.models import CompensationPolicy

# (min, max, message) per whole-number field, as the model defines them: a typo like
# 3000 days is refused.
LIMITS = POLICY_LIMITS


class CompensationPolicyForm(forms.ModelForm):
    class Meta:
        model = CompensationPolicy
        fields = [
            "apology_after_days",
            "discount_after_days",
            "discount_after_slips",
            "discount_percent",
            "one_discount_per_order",
            "combine_window_minutes",
            "send_good_news",
            "discount_valid_days",
        ]
        labels = {
            "apology_after_days": _("Apologise when a date moves by at least (days)"),
            "discount_after_days": _("Offer a discount after a total delay of (days)"),
            "discount_after_slips": _("…or after the date has moved this many times"),
            "discount_percent": _("Discount (%)"),
            "one_discount_per_order": _("At most one discount per order"),
            "combine_window_minutes": _("Combine updates to one order within (minutes)"),
            "send_good_news": _("Tell customers when a date moves earlier"),
            "discount_valid_days": _("Discount code valid for (days)"),
        }
        help_texts = {
            "apology_after_days": _(
                "When a supplier delay pushes a customer's ship date later by this many days "
                "or more, the customer gets an apology email. 0 or 1: apologise for any delay."
            ),
            "discount_after_days": _(
                "Once an item has slipped this many days in total since the first promise, "
                "the apology comes with a discount code."
            ),
            "discount_after_slips": _(
                "Once the date of an item has moved later this many times, the apology comes "
                "with a discount code, however short each delay was."
            ),
            "discount_percent": _(
                "Percentage off the customer's next order, more than 0 and at most 100 "
                "(decimals allowed, e.g. 7.5)."
            ),
            "one_discount_per_order": _(
                "Ticked: an order that already received a discount code gets apologies only, "
                "no second code."
            ),
            "combine_window_minutes": _(
                "Several changes to one order within this many minutes go out as one email, "
                "sent when the window closes. 0 sends every change at once."
            ),
            "send_good_news": _(
                "Ticked: customers get an email when their items will ship sooner than promised."
            ),
            "discount_valid_days": _(
                "How long a customer can use a discount code after we send it."
            ),
        }

    def __init__(self, *args: Any, read_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, (low, high, message) in LIMITS.items():
            field = self.fields[name]
            assert isinstance(field, forms.IntegerField)
            field.min_value, field.max_value = low, high
            field.widget.attrs.update({"min": low, "max": high})
            field.validators = [
                MinValueValidator(low, message=message),
                MaxValueValidator(high, message=message),
            ]
            field.error_messages["invalid"] = _("Enter a whole number.")
        percent = self.fields["discount_percent"]
        assert isinstance(percent, forms.DecimalField)
        percent_message = _("Enter a percentage above 0 and at most 100.")
        percent.validators = [
            validator
            for validator in percent.validators
            if not isinstance(validator, MinValueValidator | MaxValueValidator)
        ] + [
            MinValueValidator(Decimal("0.01"), message=percent_message),
            MaxValueValidator(Decimal("100"), message=percent_message),
        ]
        percent.widget.attrs.update({"min": "0.01", "max": "100", "step": "0.01"})
        percent.error_messages["invalid"] = _("Enter a number, e.g. 10 or 7.5.")
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"id_{name}_help"
            if read_only:
                field.disabled = True
