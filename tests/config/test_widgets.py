"""desk.widgets.Select writes the HTML Django's template-rendered Select writes."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms

from desk.widgets import Select
from inventory.models import Warehouse
from tests.factories import WarehouseFactory

CHOICES: list[Any] = [
    ("", "All suppliers"),
    ("7", 'Kettles & "Co" <Ltd>'),
    (8, "Lamps"),
    ("Dutch", [("ams", "Amsterdam"), ("rtm", "Rotterdam ‘Zuid’")]),
]


@pytest.mark.parametrize("value", [None, "", "7", 8, "rtm", ["7", "ams"], "missing"])
@pytest.mark.parametrize(
    "attrs", [{}, {"required": True, "disabled": False, "class": "a b", "data-x": '1"2'}]
)
@pytest.mark.parametrize("multiple", [False, True])
def test_the_same_html_as_djangos_select(value: Any, attrs: dict[str, Any], multiple: bool) -> None:
    class Fast(Select):
        allow_multiple_selected = multiple

    class Django(forms.Select):
        allow_multiple_selected = multiple

    fast = Fast(attrs=attrs, choices=CHOICES).render("supplier", value, {"id": "id_supplier"})
    slow = Django(attrs=attrs, choices=CHOICES).render("supplier", value, {"id": "id_supplier"})
    assert fast == slow
    assert "&lt;Ltd&gt;" in fast


@pytest.mark.django_db
def test_a_model_choice_field_renders_the_same() -> None:
    WarehouseFactory.create(code="AMS", name="Amsterdam & Co")
    WarehouseFactory.create(code="RTM", name="Rotterdam")

    def form(widget: type[forms.Select]) -> str:
        class WarehouseForm(forms.Form):
            warehouse = forms.ModelChoiceField(
                Warehouse.objects.order_by("code"),
                to_field_name="code",
                empty_label="All warehouses",
                widget=widget,
            )

        return str(WarehouseForm({"warehouse": "RTM"})["warehouse"])

    fast = form(Select)
    assert fast == form(forms.Select)
    assert '<option value="RTM" selected>RTM · Rotterdam</option>' in fast
