"""The one catalogue of audit actions and audit targets as people read them.

Every action a package writes with ``record_audit`` has its label here (tests/core/test_audit_page.py
finds each action in the code and fails on one missing), so the audit trail never shows a raw
``credit.rating.notice``. A target (entity type) has a label and, where a page shows it, the
page's endpoint: the audit trail links each event to its target with ``url_for`` and never
imports the package (an endpoint of a package that is not loaded gives no link).
"""
from __future__ import annotations

from typing import Optional

from flask_babel import lazy_gettext as _l

# Sign-ins and sign-outs: the audit trail folds them into a view of their own.
LOGIN_ACTIONS = ("user.login", "user.logout")

AUDIT_ACTIONS = {
    # core
    "party.create": _l("Party registered"),
    "party.update": _l("Party changed"),
    "party.export": _l("Party data exported"),
    "parcel.create": _l("Parcel registered"),
    "parcel.update": _l("Parcel changed"),
    "user.create": _l("User created"),
    "user.update": _l("User changed"),
    "user.login": _l("Signed in"),
    "user.logout": _l("Signed out"),
    "user.unlock": _l("Sign-in unlocked"),
    "api_token.issue": _l("API token issued"),
    "api_token.revoke": _l("API token revoked"),
    "job.worker_stopped": _l("Job interrupted: worker stopped"),
    "schedule.run": _l("Scheduled task queued"),
    "database.grant_app_role": _l("Database role granted"),
    "database.partition_created": _l("Monthly partition created"),
    "database.partition_detached": _l("Monthly partition detached for archiving"),
    # eco-credit
    "credit.posting.create": _l("Eco-credit points posted"),
    "credit.pending.create": _l("Points submitted for approval"),
    "credit.pending.approve": _l("Pending points approved"),
    "credit.pending.reject": _l("Pending points rejected"),
    "credit.pending.expire": _l("Pending points expired"),
    "credit.checkpoint.create": _l("Ledger checkpoint signed"),
    "credit.rule.create": _l("Credit rule created"),
    "credit.rule.revise": _l("Credit rule revised"),
    "credit.period.create": _l("Rating period opened"),
    "credit.rating_run.start": _l("Rating run started"),
    "credit.rating_run.finish": _l("Rating run finished"),
    "credit.rating.notice": _l("Rating approved for public notice"),
    "credit.rating.return": _l("Rating returned for recomputation"),
    "credit.rating.publish": _l("Rating published"),
    "credit.objection.file": _l("Objection filed"),
    "credit.objection.answer": _l("Objection answered"),
    "credit.override.request": _l("Rating override requested"),
    "credit.override.approved": _l("Rating override approved"),
    "credit.override.rejected": _l("Rating override rejected"),
    "credit.repair.apply": _l("Credit repair applied for"),
    "credit.repair.approved": _l("Credit repair approved"),
    "credit.repair.rejected": _l("Credit repair rejected"),
    # signals a receiving package refused (greenfin/signals.py)
    "certification-granted.refused": _l("Points for a granted certificate refused"),
    "certification-lapsed.refused": _l("Points for a lapsed certificate refused"),
    "loan-repaid.refused": _l("Points for a repaid loan refused"),
    "loan-defaulted.refused": _l("Points for a defaulted loan refused"),
    # GEP
    "gep.compute": _l("GEP computed"),
    "gep.attributes.update": _l("Parcel GEP attributes changed"),
    "gep.parameter.update": _l("GEP parameter changed"),
    "gep.version.create": _l("GEP price version created"),
    "gep.version.lock": _l("GEP price version locked"),
    # lending
    "lending.application.create": _l("Loan application filed"),
    "lending.application.score": _l("Application scored"),
    "lending.application.decide": _l("Application decided"),
    "lending.application.override": _l("Decision override requested"),
    "lending.application.withdraw": _l("Application withdrawn"),
    "lending.override.approve": _l("Decision override approved"),
    "lending.override.reject": _l("Decision override rejected"),
    "lending.collateral.add": _l("Collateral pledged"),
    "lending.collateral.pledged": _l("Collateral bound to the loan"),
    "lending.collateral.released": _l("Collateral released"),
    "lending.collateral.enforced": _l("Collateral enforced"),
    "lending.collateral.proposed": _l("Collateral proposed again"),
    "lending.loan.book": _l("Loan booked"),
    "lending.loan.repayment": _l("Repayment recorded"),
    "lending.loan.repaid": _l("Loan repaid"),
    "lending.loan.delinquency": _l("Delinquency bucket changed"),
    "lending.loan.default": _l("Loan defaulted"),
    "lending.loan.write_off": _l("Loan written off"),
    "lending.product.create": _l("Loan product created"),
    "lending.product.update": _l("Loan product changed"),
    "lending.model.register": _l("Scoring model registered"),
    "lending.model.promote": _l("Scoring model made champion"),
    "lending.model.demote": _l("Scoring model demoted"),
    "lending.model.retire": _l("Scoring model retired"),
    "lending.score_batch.create": _l("Score batch uploaded"),
    "lending.score_batch.score": _l("Score batch scored"),
    "lending.score_batch.purge": _l("Score batch upload deleted"),
    # pools
    "pool.create": _l("Pool created"),
    "pool.update": _l("Pool changed"),
    "pool.add_loan": _l("Loan added to a pool"),
    "pool.remove_loan": _l("Loan removed from a pool"),
    "pool.substitute_loan": _l("Loan substituted in a pool"),
    "pool_cut.create": _l("Pool cut taken"),
    "pool_cut.publish": _l("Pool cut published"),
    "pool_cut.discard": _l("Pool cut discarded"),
    "servicer_report.generate": _l("Servicer report generated"),
    # traceability
    "trace.product.create": _l("Product registered"),
    "trace.brand.create": _l("Brand registered"),
    "trace.brand.authorise": _l("Brand use authorised"),
    "trace.brand.revoke": _l("Brand authorisation revoked"),
    "trace.cert.grant": _l("Certificate granted"),
    "trace.cert.lapse": _l("Certificate lapsed"),
    "trace.cert.revoke": _l("Certificate revoked"),
    "trace.lot.create": _l("Lot registered"),
    "trace.lot.recall": _l("Lot recalled"),
    "trace.event.record": _l("Trace event recorded"),
    "trace.event.pack": _l("Packing recorded"),
    "trace.event.transform": _l("Processing recorded"),
    "trace.labels.create": _l("Label batch issued"),
    "trace.epcis.import": _l("EPCIS events imported"),
    "trace.epcis.capture_queued": _l("EPCIS capture queued"),
    "trace.epcis.capture_refused": _l("EPCIS capture refused"),
    "trace.scan.enumeration_suspected": _l("Serial guessing suspected"),
    "trace.scan.enumeration_acknowledged": _l("Serial guessing flag acknowledged"),
    "trace.scan.network_blocked": _l("Client network blocked from scanning"),
    "trace.scan.network_unblocked": _l("Client network block lifted"),
    # weather-index insurance
    "insurance.backtest": _l("Insurance backtest run"),
    "insurance.claim.create": _l("Insurance claim created"),
    "insurance.claim.propose": _l("Insurance claim proposed for payment"),
    "insurance.claim.pay": _l("Insurance claim paid"),
    "insurance.claim.reject": _l("Insurance claim rejected"),
    "insurance.event.create": _l("Weather index event recorded"),
    "insurance.parcel_station.change": _l("Parcel's weather station changed"),
    "insurance.parcel_station.link": _l("Parcels linked to weather stations"),
    "insurance.policy.cancel": _l("Insurance policy cancelled"),
    "insurance.policy.issue": _l("Insurance policy issued"),
    "insurance.product.create": _l("Index insurance product version created"),
    "insurance.station.create": _l("Weather station registered"),
    "insurance.weather.import": _l("Weather readings imported"),
    # eco-credit bulk intake
    "credit.intake.create": _l("Eco-credit intake file received"),
    "credit.intake.finish": _l("Eco-credit intake finished"),
    # forest carbon registry
    "carbon.project.create": _l("Carbon project registered"),
    "carbon.report.submit": _l("Carbon monitoring report submitted"),
    "carbon.report.issue": _l("Carbon units issued from a report"),
    "carbon.units.issue": _l("Carbon units issued"),
    "carbon.units.buffer": _l("Carbon units set aside in the buffer"),
    "carbon.units.transfer": _l("Carbon units transferred"),
    "carbon.units.pledge": _l("Carbon units pledged"),
    "carbon.units.release": _l("Carbon units released from pledge"),
    "carbon.units.enforce": _l("Pledged carbon units enforced"),
    "carbon.units.retire": _l("Carbon units retired"),
    # eco-compensation and township assessment
    "compensation.scheme.create": _l("Compensation scheme created"),
    "compensation.scheme.update": _l("Compensation scheme changed"),
    "compensation.scheme.version": _l("Compensation scheme new version"),
    "compensation.scheme.lock": _l("Compensation scheme locked"),
    "compensation.run.start": _l("Compensation run started"),
    "compensation.run.compute": _l("Compensation run computed"),
    "compensation.run.approve": _l("Compensation run approved"),
    "compensation.monitoring.import": _l("Water monitoring data imported"),
    "compensation.damage.value": _l("Ecological damage valued"),
    "assessment.indicator.create": _l("Assessment indicator created"),
    "assessment.value.enter": _l("Assessment value entered"),
    "assessment.score": _l("Townships scored"),
    "assessment.alert": _l("GEP decline alert raised"),
    # eco-product market
    "market.buyer.register": _l("Market buyer registered"),
    "market.offer.make": _l("Offer made"),
    "market.offer.refuse": _l("Offer refused"),
    "market.offer.withdraw": _l("Offer withdrawn"),
    "market.demand.post": _l("Demand posted"),
    "market.demand.close": _l("Demand closed"),
    "market.order.place": _l("Order placed"),
    "market.order.confirm": _l("Order confirmed"),
    "market.order.ship": _l("Order shipped"),
    "market.order.receive": _l("Order received"),
    "market.order.receipt_refused": _l("Order receipt refused"),
    "market.order.cancel": _l("Order cancelled"),
    "market.purchases.record": _l("Buyer's monthly purchases recorded"),
    "lot-recalled.refused": _l("Withdrawal of a recalled lot's offers refused"),
}

# The packages' prefixes, for the action filter ("every eco-credit action").
ACTION_GROUPS = {
    "party.": _l("Parties"), "parcel.": _l("Parcels"), "user.": _l("Users"), "api_token.": _l("API tokens"),
    "credit.": _l("Eco-credit"), "gep.": _l("GEP"), "lending.": _l("Lending"), "pool": _l("Pools"),
    "trace.": _l("Traceability"), "market.": _l("Market"),
}

# entity type -> (label, endpoint, the endpoint's argument taking the entity id, or "party_id" from
# the event, or None for a page without one).
AUDIT_TARGETS = {
    "party": (_l("Party"), "core.party_detail", "party_id"),
    "parcel": (_l("Parcel"), "core.parcel_detail", "parcel_id"),
    "user": (_l("User"), "core.user_form", "user_id"),
    "api_token": (_l("API token"), "core.tokens", None),
    "job": (_l("Job"), "core.job_detail", "job_id"),
    "schedule_run": (_l("Scheduled task"), None, None),
    "database_role": (_l("Database role"), None, None),
    "credit_posting": (_l("Eco-credit posting"), "credit.ledger", "@party_id"),
    "credit_pending_posting": (_l("Pending eco-credit posting"), "credit.ledger", "@party_id"),
    "credit_checkpoint": (_l("Ledger checkpoint"), "credit.ledger_status", None),
    "credit_rule": (_l("Credit rule"), "credit.rules", None),
    "credit_rating_period": (_l("Rating period"), "credit.review", None),
    "credit_rating_run": (_l("Rating run"), "credit.review", None),
    "credit_rating": (_l("Rating"), "credit.rating_detail", "rating_id"),
    "credit_objection": (_l("Objection"), "credit.ledger", "@party_id"),
    "credit_override": (_l("Rating override"), "credit.ledger", "@party_id"),
    "credit_repair": (_l("Credit repair"), "credit.ledger", "@party_id"),
    "gep_parameter": (_l("GEP parameter"), "gep.prices", None),
    "gep_version": (_l("GEP price version"), "gep.prices", None),
    "gep_run": (_l("GEP run"), "gep.dashboard", None),
    "loan_application": (_l("Loan application"), "lending.application_detail", "application_id"),
    "loan_decision": (_l("Loan decision"), None, None),
    "collateral_pledge": (_l("Collateral pledge"), None, None),
    "loan": (_l("Loan"), "lending.loan_detail", "loan_id"),
    "loan_product": (_l("Loan product"), "lending.products", None),
    "scoring_model": (_l("Scoring model"), "lending.model_card", "model_id"),
    "score_batch": (_l("Score batch"), "lending.models", None),
    "pool": (_l("Pool"), "pools.detail", "pool_id"),
    "pool_cut": (_l("Pool cut"), None, None),
    "servicer_report": (_l("Servicer report"), None, None),
    "trace_product": (_l("Product"), "trace.products", None),
    "trace_brand": (_l("Brand"), "trace.products", None),
    "trace_brand_authorisation": (_l("Brand authorisation"), "trace.products", None),
    "trace_certification": (_l("Certificate"), "trace.certificates", None),
    "trace_lot": (_l("Lot"), "trace.lot_detail", "lot_id"),
    "trace_label_batch": (_l("Label batch"), None, None),
    "trace_epcis_capture": (_l("EPCIS capture"), None, None),
    "trace_epcis_document": (_l("EPCIS document"), None, None),
    "trace_epcis_event": (_l("EPCIS event"), None, None),
    "scan_client": (_l("Client network"), "trace.enumeration_flags", None),
    "scan_flag": (_l("Serial-guessing flag"), "trace.enumeration_flags", None),
    "trace_network_block": (_l("Network block"), "trace.enumeration_flags", None),
    "ins_product": (_l("Index insurance product"), "insurance.product", "product_id"),
    "ins_claim": (_l("Insurance claim"), "insurance.claims", None),
    "ins_event": (_l("Weather index event"), "insurance.events", None),
    "ins_policy": (_l("Insurance policy"), "insurance.policy", "policy_id"),
    "ins_station": (_l("Weather station"), "insurance.weather", None),
    "credit_intake": (_l("Eco-credit intake"), "credit.intake_detail", "intake_id"),
    "carbon_project": (_l("Carbon project"), "carbon.project", "project_id"),
    "carbon_monitoring_report": (_l("Carbon monitoring report"), None, None),
    "carbon_entry": (_l("Carbon ledger entry"), "carbon.index", None),
    "compensation_scheme": (_l("Compensation scheme"), "compensation.index", None),
    "compensation_run": (_l("Compensation run"), "compensation.run_detail", "run_id"),
    "compensation_monitoring": (_l("Water monitoring data"), "compensation.index", None),
    "damage_incident": (_l("Ecological damage incident"), "compensation.index", None),
    "assessment_indicator": (_l("Assessment indicator"), "compensation.assessment", None),
    "assessment_value": (_l("Assessment value"), "compensation.assessment", None),
    "assessment_year": (_l("Assessment year"), "compensation.assessment", None),
    "assessment_alert": (_l("GEP decline alert"), "compensation.assessment", None),
    "partition": (_l("Table partition"), None, None),
    "market_buyer": (_l("Market buyer"), None, None),
    "market_offer": (_l("Offer"), None, None),
    "market_demand": (_l("Demand"), None, None),
    "market_order": (_l("Order"), None, None),
}


def action_label(action: str) -> str:
    """An audit action as people read it; an action missing from the catalogue shows its code."""
    label = AUDIT_ACTIONS.get(action)
    return str(label) if label is not None else action


def target_label(entity_type: str) -> str:
    target = AUDIT_TARGETS.get(entity_type)
    return str(target[0]) if target else entity_type


def target_url(event) -> Optional[str]:
    """The page of an audit event's target, or None (no page, or its package is not loaded)."""
    from greenfin.pages import url_or_none

    target = AUDIT_TARGETS.get(event.entity_type)
    if target is None or target[1] is None:
        return None
    _label, endpoint, arg = target
    if arg is None:
        args = {}
    elif arg.startswith("@"):
        value = getattr(event, arg[1:], None)
        if value is None:
            return None
        args = {arg[1:]: value}
    else:
        value = event.entity_id
        if arg != "job_id":
            if not str(value).isdigit():
                return None
            value = int(value)
        args = {arg: value}
    return url_or_none(endpoint, **args)
