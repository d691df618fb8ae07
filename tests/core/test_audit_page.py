"""The audit trail as people read it: actions and targets as labels from one catalogue, filters
chosen from lists, sign-ins in a view of their own, targets linked."""
import ast
import pathlib

from datetime import timedelta

from greenfin.core import services
from greenfin.dates import business_date
from greenfin.core.models import AuditEvent
from greenfin.core.audit_labels import AUDIT_ACTIONS, AUDIT_TARGETS
from greenfin.extensions import db
from greenfin.uow import commit

ROOT = pathlib.Path(__file__).resolve().parents[2]
# Actions built at run time, spelled out: f"credit.override.{status}" and the like.
DYNAMIC = {
    "credit.override.": ("approved", "rejected"), "credit.repair.": ("approved", "rejected"),
    "lending.collateral.": ("pledged", "released", "enforced", "proposed"),
    "lending.override.": ("approve", "reject"),
    "carbon.units.": ("issue", "buffer", "transfer", "pledge", "release", "enforce", "retire"),
}
SIGNALS = ("certification-granted", "certification-lapsed", "loan-repaid", "loan-defaulted")


def _written_actions():
    """Every (action, entity type) the packages write with ``record_audit``: literal ones, plus the
    constants and f-strings named above."""
    found = set()
    for folder in ("greenfin", "credit", "traceability"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text())
            constants = {t.id: n.value.value for n in ast.walk(tree) if isinstance(n, ast.Assign)
                         for t in n.targets if isinstance(t, ast.Name) and isinstance(n.value, ast.Constant)}
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None))
                        == "record_audit" and len(node.args) >= 2):
                    continue
                first, kind = node.args[0], node.args[1]
                entity = kind.value if isinstance(kind, ast.Constant) else None
                if isinstance(first, ast.Constant):
                    found.add((first.value, entity))
                elif isinstance(first, ast.Name) and first.id in constants:
                    found.add((constants[first.id], entity))
                elif isinstance(first, ast.JoinedStr) or isinstance(first, ast.BinOp):
                    head = first.values[0].value if isinstance(first, ast.JoinedStr) and isinstance(
                        first.values[0], ast.Constant) else getattr(getattr(first, "left", None), "value", "")
                    if head in DYNAMIC:
                        found |= {(head + tail, entity) for tail in DYNAMIC[head]}
                    elif not head:  # f"{signal.name}.refused"
                        found |= {(f"{name}.refused", entity) for name in SIGNALS}
                    else:
                        found.add((f"<unlisted dynamic action {head}…>", entity))
    return found


def test_every_audit_action_and_target_has_a_label():
    written = _written_actions()
    assert len(written) > 60
    missing = sorted(a for a, _ in written if a not in AUDIT_ACTIONS)
    assert not missing, missing
    targets = sorted({e for _, e in written if e and e not in AUDIT_TARGETS})
    assert not targets, targets


def test_audit_page_shows_labels_links_and_folds_sign_ins(client, login, create_user, create_party):
    regulator = create_user("regulator")
    party = create_party(name="标签主体")
    login(regulator)  # writes user.login
    commit()
    page = client.get("/audit?lang=zh_CN").get_data(as_text=True)
    assert "party.create" not in page.split("<tbody>")[1], "no raw action code in the rows"
    assert f'href="/parties/{party.id}"' in page
    changes = client.get("/audit?lang=en").get_data(as_text=True).split("<tbody>")[1]
    assert "<td>Signed in</td>" not in changes, "sign-ins are folded out of the changes"
    rows = client.get("/audit/logins?lang=en").get_data(as_text=True).split("<tbody>")[1]
    assert "<td>Signed in</td>" in rows and regulator.username in rows and "user.login" not in rows
    assert "Party registered" not in rows


def test_audit_filters_are_choices_and_an_unknown_one_is_ignored(client, login, create_user, create_party):
    login(create_user("admin"))
    party = create_party(name="筛选主体")
    services.update_party(party, {"name": "筛选主体二"})
    commit()
    page = client.get("/audit?lang=en").get_data(as_text=True)
    assert '<select name="action">' in page and '<select name="actor">' in page and '<select name="entity_type">' in page
    assert '<option value="credit.">' in page or 'value="credit."' in page
    changed = client.get("/audit?action=party.update&lang=en").get_data(as_text=True).split("<tbody>")[1]
    assert "Party changed" in changed and "Party registered" not in changed
    anything = client.get("/audit?action=%25&entity_type=nonsense&lang=en")
    assert anything.status_code == 200 and "Party registered" in anything.get_data(as_text=True)


def test_last_day_filter_includes_that_day(client, login, create_user, create_party):
    login(create_user("admin"))
    create_party(name="今日主体")
    commit()
    day = business_date(db.session.scalar(db.select(db.func.max(AuditEvent.occurred_at))))
    page = client.get(f"/audit?since={day}&until={day}&lang=en").get_data(as_text=True)
    assert "Party registered" in page.split("<tbody>")[1]
    before = client.get(f"/audit?until={day - timedelta(days=1)}&lang=en").get_data(as_text=True)
    assert "Party registered" not in before.split("<tbody>")[1]
