"""WTForms for the traceability pages. Shapes only; services do the business checks."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DateTimeLocalField, DecimalField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from greenfin.labels import choices, lazy_label
from traceability import labels  # noqa: F401  (declares the enumerations the choices read)
from greenfin.core.forms import ConfirmForm
from traceability.models import LOT_UNITS

UNIT_CHOICES = choices("unit")
KIND_CHOICES = choices("cert_kind")
SCOPE_CHOICES = choices("cert_scope")
EVENT_CHOICES = [(kind, lazy_label("trace_event", kind))
                 for kind in ("harvest", "inspection", "grading", "packing", "shipping", "receiving", "retail")]


class LotForm(FlaskForm):
    product_id = SelectField(_l("Product"), coerce=int)
    producer_id = SelectField(_l("Producer"), coerce=int)
    code = StringField(_l("Lot code"), validators=[DataRequired(), Length(max=20)])
    harvest_date = DateField(_l("Harvest date"), validators=[Optional()])
    quantity = DecimalField(_l("Quantity"), places=3, validators=[DataRequired()])
    unit = SelectField(_l("Unit"), choices=UNIT_CHOICES)
    parcel_ids = SelectMultipleField(_l("Origin parcels"), coerce=int)


class EventForm(FlaskForm):
    kind = SelectField(_l("Step"), choices=EVENT_CHOICES)
    event_time = DateTimeLocalField(_l("When (Beijing time)"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    quantity = DecimalField(_l("Quantity"), places=3, validators=[Optional()])
    ship_to_id = SelectField(_l("To (shipping, receiving)"), coerce=int)
    reference = StringField(_l("Reference document"), validators=[Optional(), Length(max=200)])
    result = SelectField(_l("Result (inspection)"), choices=[("conformant", _l("Conformant")),
                                                             ("non_conformant", _l("Not conformant"))])
    grade = StringField(_l("Grade (grading)"), validators=[Optional(), Length(max=32)])


class LabelForm(FlaskForm):
    # InputRequired, not DataRequired: 0 is an answer (out of range), not a missing one.
    count = IntegerField(_l("Number of labels"), validators=[
        InputRequired(_l("Enter the number of labels.")),
        NumberRange(min=1, max=100000, message=_l("must be a whole number from 1 to 100,000"))])
    layout = SelectField(_l("Layout"), choices=choices("label_layout"))


class RecallForm(ConfirmForm):
    reason = TextAreaField(_l("Reason for the recall"), validators=[DataRequired(), Length(max=2000)])


class CertificationForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES)
    number = StringField(_l("Certificate number"), validators=[DataRequired(), Length(max=64)])
    issuer = StringField(_l("Issuer"), validators=[DataRequired(), Length(max=128)])
    scope = SelectField(_l("Scope"), choices=SCOPE_CHOICES)
    party_id = SelectField(_l("Holder"), coerce=int)
    product_id = SelectField(_l("Product (product scope)"), coerce=int)
    parcel_id = SelectField(_l("Parcel (parcel scope)"), coerce=int)
    valid_from = DateField(_l("Valid from"), validators=[DataRequired()])
    valid_until = DateField(_l("Valid until"), validators=[DataRequired()])
    document_url = StringField(_l("Document link"), validators=[Optional(), Length(max=255)])


class FlagNoteForm(FlaskForm):
    """Acknowledge a serial-guessing flag, or lift a block: a note says what was found or decided."""

    note = StringField(_l("Note"), validators=[DataRequired(), Length(max=2000)])


class BlockForm(FlaskForm):
    """Block a client network from the scan route for a period."""

    network = StringField(_l("Client network"), validators=[Optional(), Length(max=64)])
    flag_id = IntegerField(validators=[Optional()])
    days = SelectField(_l("For"), coerce=int, choices=[(1, _l("1 day")), (7, _l("7 days")), (30, _l("30 days")),
                                                          (90, _l("90 days"))], default=7)
    note = StringField(_l("Note"), validators=[DataRequired(), Length(max=2000)])


class RevokeForm(ConfirmForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class AuthoriseForm(FlaskForm):
    brand_id = SelectField(_l("Brand"), coerce=int)
    party_id = SelectField(_l("Producer"), coerce=int)
    valid_from = DateField(_l("Valid from"), validators=[DataRequired()])
    valid_until = DateField(_l("Valid until"), validators=[Optional()])


class ProductForm(FlaskForm):
    gtin = StringField(_l("GTIN"), validators=[DataRequired(), Length(max=14)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=128)])
    name_en = StringField(_l("English name"), validators=[Optional(), Length(max=128)])
    brand_id = SelectField(_l("Brand"), coerce=int)
    owner_id = SelectField(_l("Owner"), coerce=int)
    net_content = StringField(_l("Net content"), validators=[Optional(), Length(max=32)])


assert {c for c, _ in UNIT_CHOICES} == set(LOT_UNITS)
