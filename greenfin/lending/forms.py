"""WTForms for the lending pages. Shapes only; services do the business checks."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, DateField, DecimalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from greenfin.core.forms import ConfirmForm


class ApplicationForm(FlaskForm):
    party_id = SelectField(_l("Applicant"), coerce=int)
    product_id = SelectField(_l("Loan product"), coerce=int)
    amount = DecimalField(_l("Amount (yuan)"), places=2, validators=[DataRequired()])
    term_months = IntegerField(_l("Term (months)"), validators=[DataRequired()])
    purpose = TextAreaField(_l("Purpose"), validators=[DataRequired(), Length(max=2000)])
    annual_income = DecimalField(_l("Annual income (yuan)"), places=2, validators=[DataRequired()])
    total_assets = DecimalField(_l("Total assets (yuan)"), places=2, validators=[Optional()], default=0)
    total_debts = DecimalField(_l("Total debts (yuan)"), places=2, validators=[Optional()], default=0)
    years_in_business = IntegerField(_l("Years in business"), validators=[Optional(), NumberRange(0, 200)], default=0)
    guarantors = TextAreaField(_l("Guarantors (one per line: name, relation)"), validators=[Optional(), Length(max=2000)])
    documents = TextAreaField(_l("Documents (one per line: kind, reference)"), validators=[Optional(), Length(max=2000)])
    confirm_duplicate = BooleanField(_l("File it although a pending application exists for this applicant and product"))


class CollateralForm(FlaskForm):
    parcel_id = SelectField(_l("Parcel"), coerce=int)
    appraised_value = DecimalField(_l("Appraised value (yuan)"), places=2, validators=[DataRequired()])
    appraiser = StringField(_l("Appraiser"), validators=[Optional(), Length(max=128)])
    haircut = DecimalField(_l("Haircut (share, e.g. 0.30)"), places=4, validators=[Optional()])


class OfficerDecisionForm(FlaskForm):
    outcome = SelectField(_l("Decision"), choices=[("approve", _l("Approve")), ("decline", _l("Decline"))])
    amount = DecimalField(_l("Approved amount (optional)"), places=2, validators=[Optional()])
    note = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class ReviewForm(FlaskForm):
    approve = BooleanField(_l("Approve the override"))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=2000)])


class BookForm(FlaskForm):
    disbursed_on = DateField(_l("Disbursement date"), validators=[DataRequired()])


class RepaymentForm(FlaskForm):
    amount = DecimalField(_l("Amount received (yuan)"), places=2, validators=[DataRequired()])
    received_on = DateField(_l("Received on"), validators=[DataRequired()])
    reference = StringField(_l("Bank reference"), validators=[Optional(), Length(max=64)])


class WriteOffForm(ConfirmForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class ProductForm(FlaskForm):
    name_zh = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=64)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=64)])
    min_amount = DecimalField(_l("Minimum amount"), places=2, validators=[DataRequired()])
    max_amount = DecimalField(_l("Maximum amount"), places=2, validators=[DataRequired()])
    min_term_months = IntegerField(_l("Minimum term (months)"), validators=[DataRequired()])
    max_term_months = IntegerField(_l("Maximum term (months)"), validators=[DataRequired()])
    base_rate = DecimalField(_l("Base rate"), places=6, validators=[DataRequired()])
    min_rate = DecimalField(_l("Minimum rate"), places=6, validators=[Optional()], default=0)
    max_rate = DecimalField(_l("Maximum rate"), places=6, validators=[DataRequired()])
    max_ltv = DecimalField(_l("Maximum loan-to-value"), places=4, validators=[Optional()])
    gep_share = DecimalField(_l("Share of GEP lent"), places=4, validators=[Optional()])
    green_category = StringField(_l("Use of proceeds (Green Loan Principles)"), validators=[DataRequired(), Length(max=128)])
    environmental_benefit = TextAreaField(_l("Expected environmental benefit"), validators=[DataRequired()])
    active = BooleanField(_l("Offered"))


class TrainForm(FlaskForm):
    csv = FileField(_l("Loan-book CSV"), validators=[FileRequired(), FileAllowed(["csv", "txt"], _l("A CSV file"))])
    target = StringField(_l("Target column"), validators=[DataRequired(), Length(max=255)])
    bad_value = StringField(_l("Bad value (optional)"), validators=[Optional(), Length(max=255)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=128)])
    champion = BooleanField(_l("Make it the champion"))
    include_protected = StringField(_l("Keep protected columns (optional, comma-separated; recorded on the model card)"),
                                    validators=[Optional(), Length(max=255)])


class ScoreBatchForm(FlaskForm):
    file = FileField(_l("Applicants CSV"), validators=[FileRequired(), FileAllowed(["csv", "txt"], _l("A CSV file"))])
    version = SelectField(_l("Model version"), choices=[], validate_choice=False)


def parse_lines(text: str | None, keys: tuple[str, str]) -> list[dict]:
    """'name, relation' lines into dicts."""
    out = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.replace("，", ",").split(",", 1)]
        out.append({keys[0]: parts[0], keys[1]: parts[1] if len(parts) > 1 else ""})
    return out
