"""Backup and restore: a consistent copy that restores into an empty database, keys included."""
import gzip
import json
import os
import stat

import pytest
from sqlalchemy import func, select, true

from greenfin.core import services
from greenfin.core.models import AuditEvent, Parcel, Party, User
from greenfin.extensions import db
from tests.conftest import delete_audit_events, make_uscc, migrated_app, reset_postgres, using_postgres


@pytest.fixture
def empty_database_url(tmp_path):
    if using_postgres():
        return reset_postgres("greenfin_test_restore")
    return f"sqlite:///{tmp_path / 'restored.sqlite'}"


def _table_digest(session):
    return {
        "parties": sorted((p.name, p.uscc, p.id_hash, p.id_masked) for p in session.scalars(select(Party))),
        "parcels": sorted((p.code, str(p.area_ha), str(p.lat)) for p in session.scalars(select(Parcel))),
        "users": sorted((u.username, u.password_hash) for u in session.scalars(select(User))),
        "audit": session.scalar(select(func.count(AuditEvent.id))),
    }


@pytest.mark.no_db_isolation
def test_backup_restores_into_empty_database(app, runner, tmp_path, empty_database_url, create_party, create_parcel):
    # Real commits: the backup reads through its own connection.
    party = create_party(kind="individual", name="备份测试人")
    create_parcel(holder_id=party.id, code="BK-001")
    expected = _table_digest(db.session)
    out = tmp_path / "backup.gz"
    try:
        result = runner.invoke(args=["backup", "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
        header = json.loads(gzip.open(out, "rt").readline())
        assert header["keys"]["LABEL_SIGNING_KEY"] == app.config["LABEL_SIGNING_KEY"]

        target = migrated_app(empty_database_url, instance=tmp_path / "restored-instance")
        with target.app_context():
            for key in ("SECRET_KEY", "LABEL_SIGNING_KEY", "PII_HASH_KEY"):
                target.config[key] = "something-else"
            restored = target.test_cli_runner().invoke(args=["restore", str(out)])
            assert restored.exit_code == 0, restored.output
            assert _table_digest(db.session) == expected
            assert target.config["PII_HASH_KEY"] == app.config["PII_HASH_KEY"]
            assert (tmp_path / "restored-instance" / "label_signing_key").read_text() == app.config["LABEL_SIGNING_KEY"]
            # The restored database keeps working: new rows get fresh ids.
            services.create_party({"kind": "firm", "name": "恢复后新公司", "uscc": make_uscc(), "township_code": "danan"})
            db.session.commit()
            again = target.test_cli_runner().invoke(args=["restore", str(out)])
            assert again.exit_code != 0 and "empty" in again.output
            db.session.remove()
            db.engine.dispose()
    finally:
        with app.app_context():  # remove what this test committed to the shared test database
            db.session.execute(Parcel.__table__.delete().where(Parcel.holder_id == party.id))
            delete_audit_events(db.session, true())
            db.session.execute(Party.__table__.delete().where(Party.id == party.id))
            db.session.commit()


def test_restore_refuses_foreign_file(runner, tmp_path):
    bogus = tmp_path / "bogus.gz"
    with gzip.open(bogus, "wt") as fh:
        fh.write('{"format": "other"}\n')
    result = runner.invoke(args=["restore", str(bogus)])
    assert result.exit_code != 0 and "not a GreenFin backup" in result.output


@pytest.mark.no_db_isolation
def test_demo_district_restores_with_ledger_and_labels_verifying(demo_app, tmp_path):
    """The whole demo district round-trips: `credit verify` passes and every label still verifies."""
    from traceability import digital_link
    from traceability.models import Label, LabelBatch
    from traceability.services import iter_batch_labels

    out = tmp_path / "demo-backup.gz"
    with demo_app.app_context():  # CLI commands run in the app context already pushed
        assert demo_app.test_cli_runner().invoke(args=["backup", "--out", str(out)]).exit_code == 0
    target = migrated_app(f"sqlite:///{tmp_path / 'demo-restored.sqlite'}", instance=tmp_path / "demo-restored-instance")
    with target.app_context():
        runner = target.test_cli_runner()
        restored = runner.invoke(args=["restore", str(out)])
        assert restored.exit_code == 0, restored.output
        verified = runner.invoke(args=["credit", "verify"])
        assert verified.exit_code == 0, verified.output
        if "greenfin.carbon" in target.extensions.get("greenfin_features", ()):
            carbon = runner.invoke(args=["carbon", "verify"])
            assert carbon.exit_code == 0 and "ledger OK" in carbon.output, carbon.output
        key = target.config["LABEL_SIGNING_KEY"]
        labels = 0
        for batch in db.session.scalars(select(LabelBatch)):
            for uri, serial in iter_batch_labels(batch):
                parts = uri.split("/")
                gtin, lot, signature = parts[-5], parts[-3], uri.rsplit("s=", 1)[1]
                assert digital_link.verify(key, gtin, lot, serial, signature), uri
                labels += 1
        assert labels == db.session.scalar(select(func.count(Label.id))) > 0
        db.session.remove()
        db.engine.dispose()
