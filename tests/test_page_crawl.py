"""Every code a person sees is a translated label (issue #16).

The seeded demo district is crawled as each demo role, in Chinese and in English: every GET page of
the URL map is reached (from the pages without arguments, following the links each page shows, so
the route arguments are demo ids of the right kind). On Chinese pages no code of a declared
enumeration (greenfin/labels.py: townships, sectors, land cover, CBV steps, units, layouts, rule
codes, evidence keys, uses of proceeds, scorecard features...) and no English label or message of a
translated catalogue may show; on English pages no Chinese label may show.

Text inside ``<code>`` is an identifier shown on purpose (a rule's code in the rule catalogue), and
an element marked ``lang="zh-CN"`` holds data kept only in Chinese (a rule's legal basis): neither
is read. Machine-facing answers (API, JSON, CSV, label sheets) are not crawled; the PDFs people read
(decision letters, servicer reports, rating certificates, the GEP report) are bilingual by design
and are read for codes only.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from babel.messages.pofile import read_po

from greenfin.labels import enumerations

pytestmark = pytest.mark.no_db_isolation

ROOT = Path(__file__).resolve().parent.parent
DEMO_USERNAMES = ("admin", "officer", "officer2", "regulator", "regulator2", "insurer", "insurer2", "producer", "grower",
                  "buyer")
ROLES = {"anonymous": None, "admin": "admin", "loan_officer": "officer", "regulator": "regulator", "insurer": "insurer",
         "producer": "producer", "buyer": "buyer"}
MACHINE = re.compile(r"^/(api/|static/|metrics|healthz|readyz)|\.(pdf|csv|json|jsonld)$|/pdf$")
# Pages not crawled, each with its reason.
NOT_CRAWLED = {
    "auth.logout": "ends the session",
    "trace_scan.scan": "records a scan (the consumer scan page: tests/traceability)",
    "trace_scan.scan_malformed": "an error answer for malformed codes",
    "trace_resolver.description": "machine-facing JSON, the GS1 resolver description (tests/traceability/test_resolver.py)",
}
# Pages whose wording another part of issue #16 owns (crawled, not judged here).
OWNED_ELSEWHERE = {
    "core.audit": "audit action labels and payloads (ctl16)",
}
# PDFs people read (bilingual by design: only codes are looked for); label sheets carry serials only.
PDF_ENDPOINTS = {"lending.decision_letter_pdf", "pools.report_pdf", "pools.disclosure_report_pdf",
                 "credit.certificate", "gep.report_pdf", "carbon.public_retirement_pdf", "compensation.notice",
                 "compensation.exit_audit", "insurance.event_pdf"}
PER_ENDPOINT = 2  # concrete URLs of one endpoint read per role and language
CJK = re.compile(r"[\u3400-\u9fff]")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]*[A-Za-z0-9]")


class _Page(HTMLParser):
    """The visible texts of a page (attributes people read included) and its links."""

    SKIPPED = {"script", "style", "code"}

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []
        self.links: list[str] = []
        self._skip = 0
        self._open: list[bool] = []  # per open element: was it skipped

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        skipped = tag in self.SKIPPED or (attrs.get("lang") or "").startswith("zh")
        if tag not in VOID:
            self._open.append(skipped)
        if skipped:
            self._skip += 1
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        for name in ("title", "placeholder", "aria-label", "alt"):
            if attrs.get(name) and not self._skip:
                self.texts.append(attrs[name].strip())
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.texts.append(attrs["value"].strip())

    def handle_endtag(self, tag):
        if tag not in VOID and self._open and self._open.pop():
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.texts.append(" ".join(data.split()))


def _pdf_lines(data: bytes) -> list[str]:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is missing")
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout
    # A PDF table keeps its columns apart with runs of spaces: each cell is one text.
    return [cell.strip() for line in out.decode().splitlines() for cell in re.split(r"\s{2,}", line) if cell.strip()]


def _login(client, username):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    response = client.post("/login", data={"username": username, "password": f"{username}-demo-2026",
                                           "csrf_token": token.group(1) if token else ""})
    assert response.status_code == 302, f"demo sign-in of {username} failed"


def _unlinked_pages(app) -> list[str]:
    """Pages no link of the demo district leads to, at demo ids: a GEP parameter's form (every demo
    version is locked, so the prices page links no form) and the exit-audit PDF (a GET form)."""
    from sqlalchemy import text

    from greenfin.extensions import db

    with app.app_context():
        code, key = db.session.execute(text(
            "SELECT v.code, p.key FROM gep_versions v JOIN gep_parameters p ON p.version_id = v.id "
            "ORDER BY v.id DESC, p.key LIMIT 1")).one()
        township, first, last = db.session.execute(text(
            "SELECT township_code, min(year), max(year) FROM gep_accounts GROUP BY township_code "
            "ORDER BY township_code LIMIT 1")).one()
    return [f"/gep/prices/{code}/{key}",
            f"/assessment/exit-audit.pdf?township={township}&start_year={first}&end_year={last}&official=X"]


def _crawl(app, username, language):
    """{url: (endpoint, texts)} of every page this user reaches, following links."""
    adapter = app.url_map.bind("localhost")
    client = app.test_client()
    if username:
        _login(client, username)
    client.get(f"/?lang={language}")
    queue = sorted(r.rule for r in app.url_map.iter_rules()
                   if "GET" in r.methods and not r.arguments and not MACHINE.search(r.rule)) + _unlinked_pages(app)
    seen, per_endpoint, pages = set(), defaultdict(int), {}
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        try:
            endpoint = adapter.match(urlsplit(url).path, method="GET")[0]
        except Exception:  # noqa: BLE001  (a link outside the app's routes)
            continue
        if endpoint in NOT_CRAWLED or per_endpoint[endpoint] >= PER_ENDPOINT:
            continue
        if MACHINE.search(urlsplit(url).path) and (endpoint not in PDF_ENDPOINTS or language != "zh_CN"):
            continue
        per_endpoint[endpoint] += 1
        response = client.get(url)
        assert response.status_code < 500, f"{username} {url} -> {response.status_code}"
        if response.status_code == 200 and response.mimetype == "application/pdf":
            pages[url] = (endpoint, _pdf_lines(response.data))
            continue
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        page = _Page()
        page.feed(response.get_data(as_text=True))
        pages[url] = (endpoint, page.texts)
        for href in page.links:
            parts = urlsplit(href)
            if parts.netloc and parts.netloc != "localhost":
                continue
            query = "&".join(q for q in parts.query.split("&") if q and not q.startswith(("lang=", "page=")))
            link = parts.path + (f"?{query}" if query else "")
            if link not in seen:
                queue.append(link)
    return pages


@pytest.fixture(scope="module")
def crawled(demo_app):
    """{language: {role: {url: (endpoint, texts)}}} of the demo district."""
    return {language: {role: _crawl(demo_app, user, language) for role, user in ROLES.items()}
            for language in ("zh_CN", "en")}


def _catalogue_messages():
    """(msgid, msgstr) of every translated entry of every package catalogue."""
    pairs = []
    for path in sorted(ROOT.glob("*/translations/zh/LC_MESSAGES/messages.po")) + sorted(
            ROOT.glob("greenfin/*/translations/zh/LC_MESSAGES/messages.po")):
        with path.open("rb") as fh:
            for message in read_po(fh):
                if message.id and isinstance(message.id, str) and message.string and message.string != message.id:
                    pairs.append((message.id, message.string))
    return pairs


def _vocabulary(app):
    """Codes (one token, or a phrase), English and Chinese labels and English messages."""
    tokens, phrases, english, chinese = {}, {}, {}, {}
    with app.test_request_context("/?lang=en"):
        for name, labels in enumerations().items():
            for code, entry in labels.items():
                zh, en = entry if isinstance(entry, tuple) else (None, str(entry))
                if " " in code:
                    phrases[code] = name
                elif len(code) >= 3 and re.search("[A-Za-z]", code):
                    tokens[code] = name
                if zh and zh != en:
                    chinese[zh] = f"{name} label"
                    english[en] = f"{name} label"
    for msgid, _msgstr in _catalogue_messages():
        # Acronyms (GEP, GTIN) read the same in both languages; messages with parameters are
        # formatted before they show.
        if "%(" not in msgid and re.search("[a-z]{2}", msgid):
            english.setdefault(msgid, "untranslated message")
    for username in DEMO_USERNAMES:  # names people chose, not codes
        tokens.pop(username, None)
    return tokens, phrases, english, chinese


def _code_shaped(token: str) -> bool:
    return "_" in token or token.isupper() or bool(re.search(r"\d", token))


def _findings(crawled, app, language):
    tokens, phrases, english, chinese = _vocabulary(app)
    found = set()
    for role, pages in crawled[language].items():
        for url, (endpoint, texts) in pages.items():
            if endpoint in OWNED_ELSEWHERE:
                continue
            for text in texts:
                words = [w for w in TOKEN.findall(text) if re.search("[A-Za-z]", w)]
                # A code stands alone (or among codes); in English prose only a code-shaped one
                # (KGM, in_transit, a4-3x8) is surely a code.
                among_codes = all(w in tokens for w in words)
                if endpoint in PDF_ENDPOINTS or language == "zh_CN":
                    for token in words:
                        if token in tokens and (among_codes or _code_shaped(token)):
                            found.add((endpoint, f"code {token!r} ({tokens[token]})", text[:80]))
                if endpoint in PDF_ENDPOINTS:  # bilingual by design: codes only
                    continue
                if language == "zh_CN":
                    if text in phrases:
                        found.add((endpoint, f"code ({phrases[text]})", text[:80]))
                    if text in english:
                        found.add((endpoint, f"English text ({english[text]})", text[:80]))
                elif text in chinese:
                    found.add((endpoint, f"Chinese text ({chinese[text]})", text[:80]))
    return sorted(found)


def test_every_page_is_crawled(crawled, demo_app):
    reached = {endpoint for pages in crawled["zh_CN"].values() for endpoint, _texts in pages.values()}
    pages = {r.endpoint for r in demo_app.url_map.iter_rules()
             if "GET" in r.methods and not MACHINE.search(r.rule) and not r.rule.startswith("/api/")}
    missing = sorted(pages - reached - set(NOT_CRAWLED) - {"static"})
    assert not missing, f"pages no demo role reached by following links: {missing}"
    assert PDF_ENDPOINTS <= reached, f"PDFs no demo role reached: {sorted(PDF_ENDPOINTS - reached)}"


def test_chinese_pages_show_no_code_and_no_english_label(crawled, demo_app):
    findings = _findings(crawled, demo_app, "zh_CN")
    assert not findings, "\n".join(" | ".join(f) for f in findings[:60]) + f"\n({len(findings)} in all)"


def test_english_pages_show_no_chinese_only_label(crawled, demo_app):
    findings = _findings(crawled, demo_app, "en")
    assert not findings, "\n".join(" | ".join(f) for f in findings[:60]) + f"\n({len(findings)} in all)"



def test_the_checks_find_what_issue_16_saw(app):
    """The checks themselves, on texts the issue quotes (and on prose and data they must let pass)."""
    seen = {"zh_CN": {"admin": {"/x": ("lending.application_detail", [
        "所在乡镇历史违约率较高（wucun, fengxi, quanbo, hujiao (+1)）", "3600 KGM", "commissioning / active",
        "a4-3x8", "VIOL_STRAW_BURNING", "document: 12369-60217", "current",
        "environmentally sustainable management of living natural resources and land use",
        "Seasonal repayments at the pomelo harvest (Oct-Nov) for certified orchards.", "马家柚鲜果 5kg 礼盒",
        "Danan Town", "Forest", "GEP"])}},
            "en": {"admin": {"/x": ("lending.application_detail", ["大南镇", "马家柚鲜果 5kg 礼盒", "吴村镇村民"])}}}
    zh = {(what, text) for _endpoint, what, text in _findings(seen, app, "zh_CN")}
    flagged = {text for _what, text in zh}
    assert flagged == {"所在乡镇历史违约率较高（wucun, fengxi, quanbo, hujiao (+1)）", "3600 KGM",
                       "commissioning / active", "a4-3x8", "VIOL_STRAW_BURNING", "document: 12369-60217", "current",
                       "environmentally sustainable management of living natural resources and land use",
                       "Danan Town", "Forest"}
    assert ("code 'wucun' (township)", "所在乡镇历史违约率较高（wucun, fengxi, quanbo, hujiao (+1)）") in zh
    en = {text for _endpoint, _what, text in _findings(seen, app, "en")}
    assert en == {"大南镇"}
