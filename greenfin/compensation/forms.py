"""WTForms of the compensation pages. Shapes only: ``services.value_damage`` does every check, so
the page, the API and the CLI refuse the same input with the same messages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField
from wtforms.widgets import CheckboxInput, ListWidget


class ServiceChecks(SelectMultipleField):
    """Checkboxes of the GEP services; an unknown code is left for the service to name."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        pass


class DamageForm(FlaskForm):
    reference = StringField(_l("Reference (penalty notice number)"), render_kw={"maxlength": 64})
    occurred_on = StringField(_l("Date it occurred"), render_kw={"type": "date"})
    parcel_codes = StringField(_l("Parcels affected (codes)"))
    area_ha = StringField(_l("Affected area (ha)"), render_kw={"inputmode": "decimal"})
    restoration_years = StringField(_l("Restoration period (years)"), render_kw={"inputmode": "decimal"})
    services = ServiceChecks(_l("Affected ecosystem services"))
    party = StringField(_l("Responsible party (optional)"))
