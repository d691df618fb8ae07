"""WTForms of the registry pages. Shapes only; services do the business checks."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from greenfin.carbon.labels import _METHODS


class ProjectForm(FlaskForm):
    code = StringField(_l("Project code"), validators=[DataRequired(), Length(min=2, max=12)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=128)])
    method = SelectField(_l("Method"), choices=list(_METHODS.items()))
    owner_id = SelectField(_l("Project owner"), coerce=int)
    parcel_ids = SelectMultipleField(_l("Forest parcels"), coerce=int)
    crediting_start = DateField(_l("Crediting period starts"), validators=[DataRequired()])
    crediting_end = DateField(_l("Crediting period ends"), validators=[DataRequired()])
    buffer_share = StringField(_l("Buffer share"), default="0.10", validators=[Optional(), Length(max=8)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)])
    document_title = StringField(_l("Document"), validators=[Optional(), Length(max=200)])
    document_ref = StringField(_l("Project document reference"), validators=[Optional(), Length(max=255)])


class ReportForm(FlaskForm):
    vintage = IntegerField(_l("Vintage year"), validators=[DataRequired(), NumberRange(1990, 2100)])
    verified_tonnes = StringField(_l("Verified tonnes (tCO₂e)"), validators=[DataRequired(), Length(max=20)])
    verifier = StringField(_l("Verifier"), validators=[DataRequired(), Length(max=128)])
    document = StringField(_l("Verification document"), validators=[DataRequired(), Length(max=255)])


class DecisionForm(FlaskForm):
    approve = BooleanField(_l("Approve the report"))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=2000)])


class TransferForm(FlaskForm):
    quantity = IntegerField(_l("Tonnes"), validators=[DataRequired()])
    to_party_id = SelectField(_l("Buyer"), coerce=int)
    unit_price = StringField(_l("Price a tonne (CNY)"), validators=[DataRequired(), Length(max=20)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=255)])


class PledgeForm(FlaskForm):
    quantity = IntegerField(_l("Tonnes"), validators=[DataRequired()])
    application_id = SelectField(_l("Loan application"), coerce=int)
    reference_price = StringField(_l("Reference price a tonne (CNY; empty: the registry's reference)"),
                                  validators=[Optional(), Length(max=20)])
    price_source = StringField(_l("Price source"), validators=[Optional(), Length(max=255)])
    haircut = StringField(_l("Haircut (empty: the default)"), validators=[Optional(), Length(max=8)])


class RetireForm(FlaskForm):
    quantity = IntegerField(_l("Tonnes"), validators=[DataRequired()])
    beneficiary = StringField(_l("Beneficiary (organisation or event)"), validators=[DataRequired(), Length(max=128)])
    purpose = StringField(_l("Purpose"), validators=[DataRequired(), Length(max=255)])
    own_emissions = BooleanField(_l("The holder offsets its own emissions"))


class SettleForm(FlaskForm):
    note = StringField(_l("Note"), validators=[Optional(), Length(max=255)])
