"""WTForms for the core pages. Shapes only; services do the business checks."""
from __future__ import annotations

from flask_babel import gettext  # noqa: F401
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from greenfin.core import labels  # noqa: F401  (declares the enumerations the choices read)
from greenfin.errors import translate
from greenfin.labels import choices

KIND_CHOICES = choices("party_kind")
ROLE_CHOICES = choices("role")


class PartyForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES)
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=128)])
    uscc = StringField(_l("Unified social credit code"), validators=[Optional(), Length(max=18)])
    resident_id = StringField(_l("Resident ID number"), validators=[Optional(), Length(max=18)])
    township_code = SelectField(_l("Township"))
    village = StringField(_l("Village"), validators=[Optional(), Length(max=64)])
    sector = StringField(_l("Sector"), validators=[Optional(), Length(max=64)])
    contact_name = StringField(_l("Contact"), validators=[Optional(), Length(max=64)])
    contact_phone = StringField(_l("Phone"), validators=[Optional(), Length(max=32)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=255)])


class ParcelForm(FlaskForm):
    code = StringField(_l("Parcel code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=128)])
    holder_id = SelectField(_l("Rights holder"), coerce=int)
    township_code = SelectField(_l("Township"))
    village = StringField(_l("Village"), validators=[Optional(), Length(max=64)])
    area_ha = DecimalField(_l("Area (ha)"), places=4, validators=[DataRequired()])
    land_cover = SelectField(_l("Land cover"), choices=choices("land_cover"))
    lat = DecimalField(_l("Latitude"), places=6, validators=[DataRequired()])
    lon = DecimalField(_l("Longitude"), places=6, validators=[DataRequired()])
    cert_type = SelectField(_l("Rights certificate"), choices=choices("cert_type"))
    cert_no = StringField(_l("Certificate number"), validators=[DataRequired(), Length(max=64)])


class UserForm(FlaskForm):
    username = StringField(_l("Login name"), validators=[DataRequired(), Length(min=3, max=64)])
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=128)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    party_id = SelectField(_l("Party (producers)"), coerce=int)
    password = PasswordField(_l("Password"), validators=[Optional(), Length(max=256)])
    active = BooleanField(_l("Active"), default=True)


CONFIRM_MESSAGE = _l("Tick the box to confirm: this cannot be undone.")


class ConfirmForm(FlaskForm):
    """An action that cannot be undone (recall, revocation, decision, write-off, approval): the
    person ticks the box, and the server refuses the POST without it (no script needed: the CSP
    forbids inline script). Forms of such actions extend this one; templates show
    ``confirm_box(form.confirm)``."""

    confirm = BooleanField(_l("I understand this cannot be undone"), validators=[DataRequired(CONFIRM_MESSAGE)])


def confirmation_missing(form: FlaskForm) -> bool:
    """True when the form was sent without its confirmation ticked (after ``validate_on_submit``)."""
    return "confirm" in form.errors


class TokenForm(FlaskForm):
    user_id = SelectField(_l("User"), coerce=int)
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=64)])


def apply_errors(form: FlaskForm, errors: dict[str, list[str]]) -> None:
    """Attach a service's field errors to the form fields (or to the form), translated."""
    for field, messages in errors.items():
        messages = [translate(m) for m in messages]
        target = getattr(form, field, None)
        if target is not None and hasattr(target, "errors"):
            target.errors = list(target.errors) + list(messages)
        else:
            form.form_errors.extend(messages)
