"""``flask seed-demo`` prints the demo accounts on every run (issue #16: a second ``make demo``)."""
import pytest

from greenfin.core.seed import DEMO_PASSWORD_SUFFIX, DEMO_USERS


@pytest.mark.no_db_isolation
def test_a_second_seed_prints_the_accounts_again(demo_app):
    first = demo_app.config["SEED_OUTPUT"]
    with demo_app.app_context():  # CLI commands run in the app context already pushed
        again = demo_app.test_cli_runner().invoke(args=["seed-demo"])
    assert again.exit_code == 0, again.output
    assert "Demo district seeded." in first and "Demo data already present; nothing to seed." in again.output
    for output in (first, again.output):
        for username, _display, role, _party in DEMO_USERS:
            assert f"  {role:13s} {username:11s} {username}{DEMO_PASSWORD_SUFFIX}" in output


def test_accounts_whose_password_changed_are_not_printed(runner, create_party, create_user):
    create_party()  # the district is there: nothing is seeded
    officer = create_user("loan_officer", username="officer", password="officer" + DEMO_PASSWORD_SUFFIX)
    create_user("regulator", username="regulator", password="a-password-of-her-own")
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert f"  loan_officer  officer     officer{DEMO_PASSWORD_SUFFIX}" in result.output
    assert "regulator" not in result.output and officer.username == "officer"
