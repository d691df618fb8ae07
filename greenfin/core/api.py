"""REST API of the core: townships, parties, parcels, users, tokens, audit, jobs."""
from __future__ import annotations

from flask.views import MethodView
from sqlalchemy import select

from greenfin.api_utils import api_blueprint, paginate
from greenfin.core import schemas, services
from greenfin.core.models import ApiToken
from greenfin.job_model import Job
from greenfin.errors import NotFound
from greenfin.extensions import db
from greenfin.security import AUTHENTICATED, STAFF, access, current_actor, own_party_id, require_party_access

blp = api_blueprint("core_api", __name__, "", "Parties, parcels, users, tokens, audit events and jobs")


@blp.route("/me")
class Me(MethodView):
    @access(AUTHENTICATED)
    @blp.response(200, schemas.UserSchema)
    def get(self):
        """The user behind the bearer token."""
        return current_actor()


@blp.route("/townships")
class Townships(MethodView):
    @access(AUTHENTICATED)
    @blp.response(200, schemas.TownshipSchema(many=True))
    def get(self):
        """Guangfeng's subdistricts, towns and townships (reference data)."""
        return services.list_townships()


@blp.route("/parties")
class Parties(MethodView):
    @access(*STAFF, "producer")
    @blp.arguments(schemas.PartyQueryArgsSchema, location="query")
    @blp.response(200, schemas.PartySchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """List parties; producers see only their own."""
        return paginate(services.party_query(party_id=own_party_id(), **args), pagination_parameters)

    @access("admin", "loan_officer", "regulator")
    @blp.arguments(schemas.PartySchema)
    @blp.response(201, schemas.PartySchema)
    def post(self, data):
        """Register a firm, organisation or individual (identifiers validated)."""
        party = services.create_party(data)
        return party


@blp.route("/parties/<int:party_id>")
class PartyById(MethodView):
    @access(*STAFF, "producer")
    @blp.response(200, schemas.PartySchema)
    def get(self, party_id):
        require_party_access(party_id)
        return services.get_party(party_id)

    @access("admin", "loan_officer", "regulator")
    @blp.arguments(schemas.PartyUpdateSchema)
    @blp.response(200, schemas.PartySchema)
    def patch(self, data, party_id):
        party = services.update_party(services.get_party(party_id), data)
        return party


@blp.route("/parties/<int:party_id>/export")
class PartyExport(MethodView):
    @access("admin", "regulator", "producer")
    @blp.response(200, schemas.PartyExportSchema)
    def get(self, party_id):
        """Everything held about a party (PIPL access right); producers only for their own party."""
        require_party_access(party_id)
        data = services.export_party_data(party_id)
        return data


@blp.route("/parcels")
class Parcels(MethodView):
    @access(*STAFF, "producer")
    @blp.arguments(schemas.ParcelQueryArgsSchema, location="query")
    @blp.response(200, schemas.ParcelSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """List land parcels; producers see only their own."""
        scope = own_party_id()
        if scope is not None:
            args["holder_id"] = scope
        return paginate(services.parcel_query(**args), pagination_parameters)

    @access("admin", "loan_officer", "regulator", "producer")
    @blp.arguments(schemas.ParcelSchema)
    @blp.response(201, schemas.ParcelSchema)
    def post(self, data):
        """Register a parcel with its rights certificate; producers only for themselves."""
        require_party_access(data["holder_id"])
        parcel = services.create_parcel(data)
        return parcel


@blp.route("/parcels/<int:parcel_id>")
class ParcelById(MethodView):
    @access(*STAFF, "producer")
    @blp.response(200, schemas.ParcelSchema)
    def get(self, parcel_id):
        parcel = services.get_parcel(parcel_id)
        require_party_access(parcel.holder_id)
        return parcel

    @access("admin", "loan_officer", "regulator")
    @blp.arguments(schemas.ParcelUpdateSchema)
    @blp.response(200, schemas.ParcelSchema)
    def patch(self, data, parcel_id):
        parcel = services.update_parcel(services.get_parcel(parcel_id), data)
        return parcel


@blp.route("/users")
class Users(MethodView):
    @access("admin")
    @blp.response(200, schemas.UserSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        from greenfin.core.models import User

        return paginate(select(User).order_by(User.id), pagination_parameters)

    @access("admin")
    @blp.arguments(schemas.UserSchema)
    @blp.response(201, schemas.UserSchema)
    def post(self, data):
        user = services.create_user(data)
        return user


@blp.route("/users/<int:user_id>")
class UserById(MethodView):
    @access("admin")
    @blp.response(200, schemas.UserSchema)
    def get(self, user_id):
        return services.get_user(user_id)

    @access("admin")
    @blp.arguments(schemas.UserUpdateSchema)
    @blp.response(200, schemas.UserSchema)
    def patch(self, data, user_id):
        user = services.update_user(services.get_user(user_id), data)
        return user


@blp.route("/tokens")
class Tokens(MethodView):
    @access("admin")
    @blp.response(200, schemas.TokenSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        return paginate(select(ApiToken).order_by(ApiToken.id.desc()), pagination_parameters)

    @access("admin")
    @blp.arguments(schemas.TokenCreateSchema)
    @blp.response(201, schemas.TokenSchema)
    def post(self, data):
        """Issue a bearer token for a user; the token is shown only in this response."""
        token, plain = services.issue_token(services.get_user(data["user_id"]), data["name"])
        token.token = plain  # not a column: shown in this response only
        return token


@blp.route("/tokens/<int:token_id>")
class TokenById(MethodView):
    @access("admin")
    @blp.response(200, schemas.TokenSchema)
    def delete(self, token_id):
        """Revoke a token at once."""
        token = services.revoke_token(token_id)
        return token


@blp.route("/audit-events")
class AuditEvents(MethodView):
    @access("admin", "regulator")
    @blp.arguments(schemas.AuditQueryArgsSchema, location="query")
    @blp.response(200, schemas.AuditEventSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Filter the audit trail by action prefix, entity, actor and time."""
        return paginate(services.audit_query(**args), pagination_parameters)


def visible_job(job_id: str) -> Job:
    job = db.session.get(Job, job_id)
    user = current_actor()
    if job is None:
        raise NotFound("job not found")
    if user.role in ("admin", "regulator") or job.created_by_id == user.id:
        return job
    if job.party_id is not None and job.party_id == user.party_id:
        return job
    raise NotFound("job not found")


@blp.route("/jobs")
class Jobs(MethodView):
    @access(AUTHENTICATED)
    @blp.arguments(schemas.JobQueryArgsSchema, location="query")
    @blp.response(200, schemas.JobSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Background jobs, newest first: every job for admins and regulators, else one's own and one's party's."""
        return paginate(services.job_query(user=current_actor(), **args), pagination_parameters)


@blp.route("/jobs/<job_id>")
class JobById(MethodView):
    @access(AUTHENTICATED)
    @blp.response(200, schemas.JobSchema)
    def get(self, job_id):
        """Status (queued, started, finished, failed), progress and result of a job."""
        return visible_job(job_id)
