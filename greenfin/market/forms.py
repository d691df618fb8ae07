"""WTForms of the market pages. Shapes only; services do the business checks."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

KIND_CHOICES = [("green_food", _l("Green Food")), ("organic", _l("Organic")), ("gi", _l("Geographical indication"))]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class OfferForm(FlaskForm):
    lot_id = SelectField(_l("Lot"), coerce=int, validators=[DataRequired()])
    quantity = DecimalField(_l("Quantity on offer (the lot's unit)"), validators=[DataRequired(), NumberRange(min=0)])
    unit_price = DecimalField(_l("Unit price (yuan)"), places=2, validators=[DataRequired(), NumberRange(min=0)])
    delivery_from = DateField(_l("Delivery from"), validators=[DataRequired()])
    delivery_until = DateField(_l("Delivery until"), validators=[DataRequired()])


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class DemandForm(FlaskForm):
    product_id = SelectField(_l("Product"), coerce=int, validators=[DataRequired()])
    quantity = DecimalField(_l("Quantity"), validators=[DataRequired(), NumberRange(min=0)])
    unit = SelectField(_l("Unit"), choices=[("KGM", _l("kg")), ("TNE", _l("tonne")), ("H87", _l("piece")),
                                            ("XBX", _l("box"))])
    delivery_from = DateField(_l("Delivery from"), validators=[DataRequired()])
    delivery_until = DateField(_l("Delivery until"), validators=[DataRequired()])
    required_certifications = MultiCheckboxField(_l("Certificates required"), choices=KIND_CHOICES)
    max_price = DecimalField(_l("Highest unit price (yuan, optional)"), places=2, validators=[Optional(),
                                                                                            NumberRange(min=0)])


class OrderForm(FlaskForm):
    offer_id = HiddenField(validators=[DataRequired()])
    demand_id = HiddenField()
    quantity = DecimalField(_l("Quantity"), validators=[DataRequired(), NumberRange(min=0)])


class ReceiveForm(FlaskForm):
    serials = TextAreaField(_l("Scanned labels (one serial or label link a line)"),
                            validators=[DataRequired(), Length(max=200_000)])


class CsrfOnlyForm(FlaskForm):
    """A button that changes something: the CSRF token only."""


