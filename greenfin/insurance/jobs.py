"""Insurance background jobs. Safe to run twice: events and claims are made once (unique constraints)."""
from __future__ import annotations

from datetime import date
from typing import Optional

from greenfin.insurance import services


def evaluate(ctx, as_of: Optional[str] = None) -> None:
    """Evaluate every live policy up to ``as_of`` (default yesterday); say how many claims it made."""
    created = services.evaluate_policies(date.fromisoformat(as_of) if as_of else None)
    ctx.set_result(url="/insurance/claims?status=pending", data={"as_of": as_of, "claims_created": created})
