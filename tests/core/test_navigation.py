"""The two-level navigation (greenfin/pages.py navigation(), templates/base.html)."""
from __future__ import annotations

import re

import pytest

from greenfin.pages import navigation

ROLES = ("admin", "loan_officer", "regulator", "producer")


@pytest.mark.parametrize("role", ROLES)
def test_every_link_of_a_role_is_in_the_menu_once(app, role):
    with app.test_request_context("/"):
        entries = navigation(role, "core.home", "/")
        links = [i["endpoint"] for e in entries for i in e["items"]]
        expected = [i["endpoint"] for i in app.extensions["greenfin_nav"] if role in i["roles"]]
    assert sorted(links) == sorted(expected) and len(set(links)) == len(links)
    assert len(entries) <= 8, [str(e["label"]) for e in entries]  # fits 1366 px on one line
    assert all(len(e["items"]) >= 2 or e.get("endpoint") for e in entries)
    assert not any(e["active"] for e in entries)  # the home page belongs to no group




def test_a_page_inside_a_section_marks_its_group(app):
    with app.test_request_context("/lending/loans/7"):
        entries = navigation("loan_officer", "lending.loan_detail", "/lending/loans/7")
    active = [e for e in entries if e["active"]]
    assert len(active) == 1 and {i["endpoint"] for i in active[0]["items"]} >= {"lending.queue", "lending.portfolio"}


def test_pages_show_the_group_and_its_second_level(client, create_user, login):
    login(create_user("regulator"))
    html = client.get("/credit/charts").get_data(as_text=True)
    nav = html[html.index('<nav class="nav"'):html.index("</nav>")]
    assert nav.count("<details") >= 3  # eco-credit, lending, traceability, system ...
    assert re.search(r'<details class="nav-group active">\s*<summary>生态信用</summary>', nav)
    subnav = html[html.index('<nav class="subnav"'):]
    subnav = subnav[:subnav.index("</nav>")]
    assert 'href="/credit/charts" class="active" aria-current="page"' in subnav
    assert 'href="/credit/rules"' in subnav and 'href="/lending/' not in subnav
