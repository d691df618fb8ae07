"""GEP pages: the dashboard by township, a township's villages, accounts, price versions, the PDF report."""
from __future__ import annotations


from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from greenfin.core import services as core
from greenfin.core.forms import apply_errors
from greenfin.downloads import content_disposition
from greenfin.errors import DomainError, NotFound, ValidationFailed, error_text
from greenfin.extensions import db
from greenfin.labels import label
from greenfin.uow import rollback
from greenfin.gep import services
from greenfin.gep.models import GepAccount
from greenfin.gep.forms import ComputeForm, ImportForm, ParameterForm, ParcelComputeForm, VersionCopyForm
from greenfin.pages import follow_job, page_of
from greenfin.security import STAFF, access, require_party_access
from greenfin.dates import today

bp = Blueprint("gep", __name__, url_prefix="/gep")
VIEWERS = ("admin", "regulator", "loan_officer")


def _year() -> int:
    years = services.account_years()
    default = years[0] if years else today().year
    year = request.args.get("year", default, type=int) or default
    return year if 1990 <= year <= 2100 else default


def _version_choices():
    return [(v.code, f"{v.code} · {v.title}") for v in services.list_versions()]


def _compute_form(year: int) -> ComputeForm:
    form = ComputeForm(data={"year": year})
    form.prices.choices = _version_choices()
    form.township.choices = [("", _("Whole district"))] + [(t.code, label("township", t.code)) for t in core.list_townships()]
    return form


@bp.route("/")
@access(*VIEWERS)
def dashboard():
    year = _year()
    townships = services.year_over_year(year, "township")
    district = services.year_over_year(year, "district")
    form = _compute_form(year)
    return render_template("gep/dashboard.html", year=year, years=services.account_years(), townships=townships,
                           district=district[0] if district else None, services=services.service_totals(year),
                           form=form)


@bp.route("/townships/<code>")
@access(*VIEWERS)
def township(code):
    place = services.find_township(code)
    year = _year()
    summary = services.year_over_year(year, "district", township=place.code)
    accounts = page_of(services.account_query(year=year).where(
        GepAccount.township_code == place.code).order_by(None).order_by(GepAccount.total.desc()))
    return render_template("gep/township.html", place=place, year=year, years=services.account_years(),
                           summary=summary[0] if summary else None,
                           villages=services.year_over_year(year, "village", township=place.code),
                           services=services.service_totals(year, township=place.code), page=accounts)


@bp.route("/report.pdf")
@access(*VIEWERS)
def report_pdf():
    year = _year()
    township = request.args.get("township") or None
    code = services.find_township(township).code if township else None
    data = services.report_pdf(year, code)
    name = f"gep-{year}-{code or 'district'}.pdf"
    return Response(data, mimetype="application/pdf", headers={"Content-Disposition": content_disposition(name, inline=True)})


@bp.route("/compute", methods=["POST"])
@access("admin", "regulator")
def compute():
    form = _compute_form(today().year)
    if not form.validate_on_submit():
        for field, messages in form.errors.items():
            flash(f"{getattr(form, field).label.text}: {'; '.join(messages)}", "error")
        return redirect(url_for("gep.dashboard"))
    try:
        job = services.start_gep_run(form.year.data, form.prices.data or None, form.township.data or None)
    except DomainError as exc:
        rollback()
        flash(error_text(exc), "error")
        return redirect(url_for("gep.dashboard"))
    return follow_job(job.id)


@bp.route("/accounts/<int:account_id>")
@access(*STAFF, "producer")
def account(account_id):
    acc = services.get_account(account_id)
    require_party_access(acc.parcel.holder_id)
    others = db.session.scalars(services.account_query(parcel_id=acc.parcel_id)).all()
    return render_template("gep/account.html", account=acc, rows=services.account_services(acc), others=others,
                           verified=services.verify_account(acc),
                           shares=services.category_shares(acc.provisioning, acc.regulating, acc.cultural))


@bp.route("/parcels/<int:parcel_id>/compute", methods=["POST"])
@access("admin", "regulator")
def parcel_compute(parcel_id):
    core.get_parcel(parcel_id)
    form = ParcelComputeForm()
    form.prices.choices = _version_choices()
    if form.validate_on_submit():
        try:
            acc = services.compute_parcel_account(parcel_id, form.year.data, services.get_version(form.prices.data))
            flash(_("GEP account computed."), "success")
            return redirect(url_for("gep.account", account_id=acc.id))
        except DomainError as exc:
            rollback()
            flash(error_text(exc), "error")
    else:
        flash(_("Give a year between 1990 and 2100 and a price version."), "error")
    return redirect(url_for("core.parcel_detail", parcel_id=parcel_id))


@bp.route("/import", methods=["GET", "POST"])
@access("admin", "regulator")
def import_parcels():
    """Upload parcels and their GEP attributes; bad rows are listed, good rows are kept."""
    from greenfin.gep import importer

    form = ImportForm()
    report = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            form.file.errors = list(form.file.errors) + [_("The file is not UTF-8 text.")]
        else:
            try:
                report = importer.import_parcels(text, importer.detect_format(upload.filename or "", text))
            except ValidationFailed as exc:
                rollback()
                apply_errors(form, {"file": [m for msgs in exc.errors.values() for m in msgs]})
    status = 422 if form.errors else 200
    return render_template("gep/import.html", form=form, report=report), status


# ---------------------------------------------------------------- parameter and price versions


def _copy_form() -> VersionCopyForm:
    form = VersionCopyForm()
    form.source.choices = _version_choices()
    return form


@bp.route("/prices")
@access("admin", "regulator")
def prices():
    return render_template("gep/prices.html", versions=services.list_versions(), form=_copy_form())


@bp.route("/prices/copy", methods=["POST"])
@access("admin")
def version_copy():
    """A new version copied from another; its values are edited before it is used."""
    form = _copy_form()
    if form.validate_on_submit():
        try:
            version = services.copy_version(services.get_version(form.source.data),
                                            {"code": form.code.data.strip(), "title": form.title.data,
                                             "year": form.year.data})
            flash(_("Version %(code)s created; edit its values before it is used.", code=version.code), "success")
            return redirect(url_for("gep.version", code=version.code))
        except (ValidationFailed, NotFound) as exc:
            rollback()
            apply_errors(form, exc.errors or {"source": [exc.message]})
    return render_template("gep/prices.html", versions=services.list_versions(), form=form), 422


@bp.route("/prices/<code>")
@access("admin", "regulator")
def version(code):
    v = services.get_version(code)
    return render_template("gep/version.html", version=v, form=ParameterForm())


@bp.route("/prices/<code>/<key>", methods=["GET", "POST"])
@access("admin")
def parameter_edit(code, key):
    v = services.get_version(code)
    param = next((p for p in v.parameters if p.key == key), None)
    if param is None:
        raise NotFound(f"parameter {key} not found in version {code}")
    form = ParameterForm(obj=param)
    if form.validate_on_submit():
        try:
            services.update_parameter(v, key, {"value": form.value.data, "unit": form.unit.data,
                                               "source": form.source.data, "year": form.year.data})
            flash(_("Parameter %(key)s saved.", key=key), "success")
            return redirect(url_for("gep.version", code=code))
        except DomainError as exc:
            rollback()
            apply_errors(form, exc.errors or {"value": [exc.message]})
    status = 422 if form.errors else 200
    return render_template("gep/parameter_form.html", version=v, param=param, form=form), status
