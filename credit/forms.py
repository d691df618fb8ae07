"""WTForms of the eco-credit pages. Shapes only; services do the business checks."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, HiddenField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from credit import labels  # noqa: F401  (declares the enumerations the choices read)
from greenfin.core import labels as core_labels  # noqa: F401  (party kinds)
from greenfin.labels import choices, lazy_label

COLOUR_CHOICES = [(c, lazy_label("colour", c)) for c in ("green", "blue", "yellow", "red")]
KIND_CHOICES = choices("party_kind")


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


class ReviewBatchForm(FlaskForm):
    """Approve or return many computed ratings at once (the review queue). Approving cannot be
    undone: the box must be ticked; returning needs a note."""

    rating_ids = SelectMultipleField(_l("Ratings"), coerce=int, validate_choice=False,
                                     validators=[DataRequired(_l("Tick at least one rating."))])
    decision = HiddenField(validators=[AnyOf(("approve", "return"))])
    note = StringField(_l("Why they go back"), validators=[Optional(), Length(max=2000)])
    confirm = BooleanField(_l("I understand this cannot be undone"))  # required to approve (views.ratings_review)


class NoteForm(FlaskForm):
    note = StringField(_l("Note"), validators=[Optional(), Length(max=2000)])


class RuleForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=48)])
    effective_from = DateField(_l("Effective from"), validators=[Optional()])
    category = SelectField(_l("Category"), choices=choices("rule_category"))
    description_zh = StringField(_l("Description (Chinese)"), validators=[DataRequired(), Length(max=255)])
    description_en = StringField(_l("Description (English)"), validators=[DataRequired(), Length(max=255)])
    party_kinds = SelectMultipleField(_l("Applies to"), choices=KIND_CHOICES)
    points = IntegerField(_l("Points"), validators=[DataRequired()])
    display_months = IntegerField(_l("Display period (months)"), default=12)
    evidence_required = StringField(_l("Evidence required"), validators=[Optional(), Length(max=255)])
    legal_basis = StringField(_l("Legal basis"), validators=[Optional(), Length(max=255)])
    veto = BooleanField(_l("Veto (makes the party red whatever its points)"))


class RunForm(FlaskForm):
    period = StringField(_l("Period"), validators=[DataRequired(), Length(max=16)])  # views: default_run_period()


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
