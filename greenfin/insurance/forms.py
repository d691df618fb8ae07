"""WTForms of the insurance pages. Shapes only; services do the business checks."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional


class WeatherImportForm(FlaskForm):
    file = FileField(_l("CSV file (station, date, tmin, tmax, precipitation)"),
                     validators=[FileRequired(), FileAllowed(["csv", "txt"])])


class PolicyForm(FlaskForm):
    product_id = SelectField(_l("Index product"), coerce=int, validators=[DataRequired()])
    parcel_id = IntegerField(_l("Parcel number (id)"), validators=[DataRequired(), NumberRange(min=1)])
    season = IntegerField(_l("Season (year it starts)"), validators=[DataRequired(), NumberRange(min=2000, max=2100)])


class EvaluateForm(FlaskForm):
    as_of = DateField(_l("Evaluate up to"), validators=[Optional()])


class ClaimDecisionForm(FlaskForm):
    action = HiddenField(validators=[AnyOf(("propose", "approve", "reject"))])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=1000)])


class CsrfOnlyForm(FlaskForm):
    """A button that changes something: the CSRF token only."""


class ProductVersionForm(FlaskForm):
    """A new version of a product: the current version's values, changed where needed."""

    trigger = StringField(_l("Trigger"), validators=[DataRequired(), Length(max=16)])
    exit = StringField(_l("Exit"), validators=[DataRequired(), Length(max=16)])
    tiers = StringField(_l("Tiers (level:share, separated by ;)"), validators=[Optional(), Length(max=400)])
    sum_insured_per_ha = StringField(_l("Sum insured (CNY/ha)"), validators=[DataRequired(), Length(max=20)])
    premium_rate = StringField(_l("Premium rate"), validators=[DataRequired(), Length(max=12)])
    loading = StringField(_l("Loading on expected loss"), validators=[DataRequired(), Length(max=12)])
    central = StringField(_l("Central government"), validators=[DataRequired(), Length(max=12)])
    provincial = StringField(_l("Province"), validators=[DataRequired(), Length(max=12)])
    county = StringField(_l("County"), validators=[DataRequired(), Length(max=12)])
    farmer = StringField(_l("Farmer"), validators=[DataRequired(), Length(max=12)])
