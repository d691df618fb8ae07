"""WTForms of the eco-credit pages. Shapes only; services do the business checks."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, HiddenField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from credit.catalogue import CATEGORIES

COLOUR_CHOICES = [("green", _l("Green · trustworthy")), ("blue", _l("Blue · good")),
                  ("yellow", _l("Yellow · warning")), ("red", _l("Red · poor"))]
KIND_CHOICES = [("firm", _l("Firm")), ("organisation", _l("Organisation")), ("individual", _l("Individual"))]


class PostingForm(FlaskForm):
    party_id = SelectField(_l("Party"), coerce=int)
    rule_code = SelectField(_l("Rule"))
    effective_date = DateField(_l("Effective date"), validators=[Optional()])
    document = StringField(_l("Document reference"), validators=[Optional(), Length(max=200)])
    inspector = StringField(_l("Inspector"), validators=[Optional(), Length(max=64)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])
    idempotency_key = HiddenField(validators=[DataRequired(), Length(max=200)])


class ReversalForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the correction"), validators=[DataRequired(), Length(max=2000)])
    idempotency_key = HiddenField(validators=[DataRequired(), Length(max=200)])


class NoteForm(FlaskForm):
    note = StringField(_l("Note"), validators=[Optional(), Length(max=2000)])


class RuleForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=48)])
    effective_from = DateField(_l("Effective from"), validators=[Optional()])
    category = SelectField(_l("Category"), choices=[(k, f"{zh} {en}") for k, (zh, en) in CATEGORIES.items()])
    description_zh = StringField(_l("Description (Chinese)"), validators=[DataRequired(), Length(max=255)])
    description_en = StringField(_l("Description (English)"), validators=[DataRequired(), Length(max=255)])
    party_kinds = SelectMultipleField(_l("Applies to"), choices=KIND_CHOICES)
    points = IntegerField(_l("Points"), validators=[DataRequired()])
    display_months = IntegerField(_l("Display period (months)"), default=12)
    evidence_required = StringField(_l("Evidence required"), validators=[Optional(), Length(max=255)])
    legal_basis = StringField(_l("Legal basis"), validators=[Optional(), Length(max=255)])
    veto = BooleanField(_l("Veto (makes the party red whatever its points)"))


class RunForm(FlaskForm):
    period = StringField(_l("Period"), validators=[DataRequired(), Length(max=16)], default="2026-Q3")


class ObjectionForm(FlaskForm):
    text = TextAreaField(_l("What is wrong, and why"), validators=[DataRequired(), Length(max=4000)])


class AnswerForm(FlaskForm):
    decision = SelectField(_l("Decision"), choices=[("dismissed", _l("Dismiss")), ("upheld", _l("Uphold"))])
    answer = TextAreaField(_l("Answer"), validators=[DataRequired(), Length(max=4000)])
    new_colour = SelectField(_l("Corrected level (when upholding)"), choices=[("", "—")] + COLOUR_CHOICES,
                             validators=[Optional()])


class OverrideForm(FlaskForm):
    to_colour = SelectField(_l("New level"), choices=COLOUR_CHOICES)
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=4000)])


class RepairForm(FlaskForm):
    statement = TextAreaField(_l("Correction made and supporting documents"),
                              validators=[DataRequired(), Length(max=4000)])


class ImportForm(FlaskForm):
    csv_file = FileField(_l("CSV or JSON Lines file (UTF-8)"), validators=[FileRequired()])
