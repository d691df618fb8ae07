"""Job functions used by the job tests (importable by a real rq worker)."""
from greenfin.core import services
from greenfin.extensions import db


def rename_party(ctx, party_id: int, name: str):
    ctx.progress(50, "renaming")
    services.update_party(services.get_party(party_id), {"name": name})
    ctx.set_result(url=f"/parties/{party_id}", data={"name": name})


def fail_after_write(ctx, party_id: int):
    services.update_party(services.get_party(party_id), {"name": "half-done"})
    db.session.flush()
    raise RuntimeError("worker died half-way")


def slow_rename(ctx, party_id: int, name: str, seconds: float):
    """Long enough for a test to kill the worker in the middle."""
    import time

    services.update_party(services.get_party(party_id), {"name": name})
    db.session.flush()
    for step in range(10):
        ctx.progress(step * 10, "working")
        time.sleep(seconds / 10)


def audit_slowly(ctx, party_id: int, seconds: float):
    """Writes an audit event, shows it half-way, then works on (two attempts at once would write two)."""
    import time

    services.record_audit("test.job.write", "party", party_id)
    db.session.flush()
    ctx.progress(50, "written")
    time.sleep(seconds)
