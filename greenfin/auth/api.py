"""REST API of sign-in throttling: what waits an account has, and the admins' unlock."""
from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields

from greenfin.api_utils import api_blueprint
from greenfin.auth import throttle
from greenfin.core.services import get_user
from greenfin.security import access

blp = api_blueprint("auth_api", __name__, "", "Sign-in throttling: waits per client network, unlock")


class ThrottledNetworkSchema(Schema):
    network = fields.Str(required=True, metadata={"description": "client network (IPv4 /24, IPv6 /64)"})
    failures = fields.Int(required=True, metadata={"description": "wrong passwords remembered from it"})
    wait = fields.Int(required=True, metadata={"description": "seconds before its next try (0: none)"})


class LoginThrottleSchema(Schema):
    user_id = fields.Int(required=True)
    networks = fields.List(fields.Nested(ThrottledNetworkSchema), required=True)


@blp.route("/users/<int:user_id>/login-throttle")
class LoginThrottle(MethodView):
    @access("admin")
    @blp.response(200, LoginThrottleSchema)
    def get(self, user_id):
        """The client networks with failed sign-ins on this account, and their waits."""
        user = get_user(user_id)
        return {"user_id": user.id, "networks": throttle.throttled_networks(user.username)}

    @access("admin")
    @blp.response(200, LoginThrottleSchema)
    def delete(self, user_id):
        """Unlock: lift every wait and forget every failure on this account (audited)."""
        user = get_user(user_id)
        throttle.unlock_account(user)
        return {"user_id": user.id, "networks": []}
