"""WTForms of the GEP pages. Shapes only; services do the business checks."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DecimalField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class ComputeForm(FlaskForm):
    year = IntegerField(_l("Year"), validators=[DataRequired(), NumberRange(min=1990, max=2100)])
    prices = SelectField(_l("Price version"))
    township = SelectField(_l("Township"), validators=[Optional()])


class ParcelComputeForm(FlaskForm):
    year = IntegerField(_l("Year"), validators=[DataRequired(), NumberRange(min=1990, max=2100)])
    prices = SelectField(_l("Price version"))


class VersionCopyForm(FlaskForm):
    source = SelectField(_l("Copy of"))
    code = StringField(_l("New version code"), validators=[DataRequired(), Length(max=32)])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=255)])
    year = IntegerField(_l("Price base year"), validators=[DataRequired(), NumberRange(min=1990, max=2100)])


class ParameterForm(FlaskForm):
    value = DecimalField(_l("Value"), validators=[DataRequired()])
    unit = StringField(_l("Unit"), validators=[DataRequired(), Length(max=64)])
    source = StringField(_l("Source"), validators=[DataRequired(), Length(max=255)])
    year = IntegerField(_l("Year"), validators=[DataRequired(), NumberRange(min=1990, max=2100)])


class ImportForm(FlaskForm):
    file = FileField(_l("CSV or GeoJSON file"), validators=[FileRequired(), FileAllowed(["csv", "geojson", "json"])])
