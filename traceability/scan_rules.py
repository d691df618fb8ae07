"""The scan rules: where a scan came from (trusted geo only) and the verdict on a genuine label.

Geo information comes only from the edge proxy, and only when the request reached the app
through it: ``TRACE_GEO_PROXIES`` lists the proxies' addresses or networks (empty, the default:
no geo at all). Any ``X-Geo-*`` header on a request whose direct peer is not listed is ignored,
whoever sent it. A region is kept only when it names one of China's provincial-level divisions
(``REGIONS``), stored as its short Chinese name; anything else is dropped.

A network a regulator blocked after serial guessing was flagged (``network_blocked``) gets no
verdict at all: its scans are answered "paused" and recorded as ``blocked``.

The verdict (``judge_scan``) cannot be poisoned by a stranger holding a copy of the code:
scans are counted by client network (/24 or /48), repeats from one network count once, the
history judged is the last ``HISTORY_LIMIT`` scans of ``RECENT_WINDOW`` (older scans drop out),
and the network that scanned the label first, which is the buyer's as a rule, keeps its
"genuine, scanned before" whatever others did. The PL/pgSQL function ``trace_record_scan``
(migration trace_0006) applies the same rule; a Hypothesis test compares the two.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import math
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Optional
from urllib.parse import unquote

from greenfin.dates import utcnow
from greenfin.numbers import to_decimal

NETWORK_LIMIT = 10                 # more distinct networks than this in RECENT_WINDOW: suspicious
RECENT_WINDOW = timedelta(days=30)
HISTORY_LIMIT = 100                # the most recent scans judged (and the most "previous scans" counted)
SPREAD_WINDOW = timedelta(hours=6)
SPREAD_KM = 300

# China's provincial-level divisions: ISO 3166-2:CN code, short name (what is stored), full name, English.
REGIONS = (
    ("CN-BJ", "北京", "北京市", "Beijing"), ("CN-TJ", "天津", "天津市", "Tianjin"),
    ("CN-HE", "河北", "河北省", "Hebei"), ("CN-SX", "山西", "山西省", "Shanxi"),
    ("CN-NM", "内蒙古", "内蒙古自治区", "Inner Mongolia"), ("CN-LN", "辽宁", "辽宁省", "Liaoning"),
    ("CN-JL", "吉林", "吉林省", "Jilin"), ("CN-HL", "黑龙江", "黑龙江省", "Heilongjiang"),
    ("CN-SH", "上海", "上海市", "Shanghai"), ("CN-JS", "江苏", "江苏省", "Jiangsu"),
    ("CN-ZJ", "浙江", "浙江省", "Zhejiang"), ("CN-AH", "安徽", "安徽省", "Anhui"),
    ("CN-FJ", "福建", "福建省", "Fujian"), ("CN-JX", "江西", "江西省", "Jiangxi"),
    ("CN-SD", "山东", "山东省", "Shandong"), ("CN-HA", "河南", "河南省", "Henan"),
    ("CN-HB", "湖北", "湖北省", "Hubei"), ("CN-HN", "湖南", "湖南省", "Hunan"),
    ("CN-GD", "广东", "广东省", "Guangdong"), ("CN-GX", "广西", "广西壮族自治区", "Guangxi"),
    ("CN-HI", "海南", "海南省", "Hainan"), ("CN-CQ", "重庆", "重庆市", "Chongqing"),
    ("CN-SC", "四川", "四川省", "Sichuan"), ("CN-GZ", "贵州", "贵州省", "Guizhou"),
    ("CN-YN", "云南", "云南省", "Yunnan"), ("CN-XZ", "西藏", "西藏自治区", "Tibet"),
    ("CN-SN", "陕西", "陕西省", "Shaanxi"), ("CN-GS", "甘肃", "甘肃省", "Gansu"),
    ("CN-QH", "青海", "青海省", "Qinghai"), ("CN-NX", "宁夏", "宁夏回族自治区", "Ningxia"),
    ("CN-XJ", "新疆", "新疆维吾尔自治区", "Xinjiang"), ("CN-TW", "台湾", "台湾省", "Taiwan"),
    ("CN-HK", "香港", "香港特别行政区", "Hong Kong"), ("CN-MO", "澳门", "澳门特别行政区", "Macao"),
)
_REGION_NAMES = {name.casefold(): short for code, short, full, english in REGIONS
                 for name in (code, short, full, english)}


def canonical_region(value: Optional[str]) -> Optional[str]:
    """The short name of a known region (ISO code, Chinese or English name, percent-encoded
    UTF-8 allowed), or None: unknown text is never stored or shown."""
    if not value:
        return None
    return _REGION_NAMES.get(unquote(value).strip().casefold())


@lru_cache(maxsize=8)
def geo_proxies(setting: str) -> tuple:
    """The networks of ``TRACE_GEO_PROXIES`` (comma-separated addresses or CIDRs); ValueError if malformed."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in (setting or "").split(",")
                 if part.strip())


def direct_peer(environ: dict) -> str:
    """The address of whoever opened the connection to the app (before ProxyFix rewrote it)."""
    original = environ.get("werkzeug.proxy_fix.orig") or environ
    return original.get("REMOTE_ADDR") or ""


def trusted_geo(environ: dict, headers, setting: str) -> dict:
    """Region and coordinates of a scan, from the edge proxy's headers: only when the direct peer is
    one of the configured proxies, only a known region, only coordinates in range."""
    proxies = geo_proxies(setting)
    if not proxies:
        return {}
    try:
        peer = ipaddress.ip_address(direct_peer(environ))
    except ValueError:
        return {}
    if not any(peer in net for net in proxies):
        return {}
    geo = {"region": canonical_region(headers.get("X-Geo-Region"))}
    lat, lon = to_decimal(headers.get("X-Geo-Lat")), to_decimal(headers.get("X-Geo-Lon"))
    if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
        geo["lat"], geo["lon"] = lat.quantize(Decimal("0.000001")), lon.quantize(Decimal("0.000001"))
    return geo


def network_of(address: str) -> Optional[str]:
    """What is kept of a client address: its /24 (IPv4) or /48 (IPv6) network; a network stays as it is."""
    try:
        net = ipaddress.ip_network(address, strict=False)
    except ValueError:
        return None
    keep = 24 if net.version == 4 else 48
    return str(net.supernet(new_prefix=keep) if net.prefixlen > keep else net)


def network_blocked(network: Optional[str], blocks: dict, now: datetime) -> bool:
    """Whether a regulator barred the client's network from scanning at ``now`` (serial guessing).

    ``blocks`` maps a network to the periods ``(starts_at, ends_at)`` it is blocked. Such a scan
    comes before any verdict: the code is not checked and the answer is "paused" (verdict
    ``blocked``), so a guesser learns nothing and the label's history is not touched.
    """
    if not network:
        return False
    return any(starts <= now < ends for starts, ends in blocks.get(network, ()))


def _km(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    dp, dl_ = p2 - p1, math.radians(float(lon2) - float(lon1))
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl_ / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def judge_scan(first, recent: list, now: datetime, network: Optional[str], region: Optional[str], lat, lon,
               recalled: bool) -> tuple[str, Optional[str]]:
    """The verdict on a scan of a genuine label: (verdict, reason).

    ``first`` is the label's first scan (None if this is the first); ``recent`` its last
    HISTORY_LIMIT scans within RECENT_WINDOW, newest first; each has ``scanned_at``, ``region``,
    ``lat``, ``lon`` and ``ip_prefix``. In order: a recalled lot is suspicious; a first scan is
    genuine; the first scanner's network sees "scanned before"; more than NETWORK_LIMIT networks
    in the window (this one included) is suspicious; so is a scan from another network within
    SPREAD_WINDOW more than SPREAD_KM away (both coordinates known) or else in another region.
    """
    if recalled:
        return "suspicious", "recalled"
    if first is None:
        return "genuine", None
    if network is not None and network == first.ip_prefix:
        return "genuine_repeat", None
    networks = {e.ip_prefix for e in recent if e.ip_prefix is not None} | ({network} if network else set())
    if len(networks) > NETWORK_LIMIT:
        return "suspicious", "too_many"
    for earlier in recent:
        if earlier.ip_prefix == network or now - earlier.scanned_at > SPREAD_WINDOW:
            continue
        if lat is not None and earlier.lat is not None:
            if _km(lat, lon, earlier.lat, earlier.lon) > SPREAD_KM:
                return "suspicious", "far_apart"
        elif region and earlier.region and region != earlier.region:
            return "suspicious", "far_apart"
    return "genuine_repeat", None


# ---------------------------------------------------------------- a repeat from the same browser
#
# Reloading the page or switching its language is not a new scan. The first answer to a genuine
# label sets a cookie for that label only (``gfs_<serial>``, path ``/01/``, REPEAT_WINDOW long,
# HttpOnly, SameSite=Lax), signed with a key derived from the app's secret (HMAC-SHA256) and
# holding only what the page showed: the verdict, its reason, the count of earlier scans, the
# first scan's time and when this browser scanned. Nothing about the person: no address, network,
# region or device. Within the window the same browser opening the same label gets that answer
# again, marked as a repeat, and no scan is recorded; a forged, altered or expired cookie, or one
# of another label, is ignored (a new scan). A phone that refuses cookies, or another phone, is a
# new scan as before: every real scan is still recorded.

REPEAT_WINDOW = timedelta(minutes=30)
REPEAT_SALT = b"trace-scan-repeat"
REPEAT_PREFIX = "gfs_"
REPEAT_PATH = "/01/"
_REPEAT_VERDICTS = ("genuine", "genuine_repeat", "suspicious")


def repeat_cookie_name(serial: str) -> Optional[str]:
    """The cookie of one label (None for a serial that cannot name a cookie)."""
    return REPEAT_PREFIX + serial if serial and serial.isascii() and serial.isalnum() and len(serial) <= 20 else None


@lru_cache(maxsize=4)
def _repeat_key(secret: str) -> bytes:
    """The cookie's own key, derived from the app's secret (never the secret itself)."""
    return hmac.new(secret.encode(), REPEAT_SALT, hashlib.sha256).digest()


def _mac(secret: str, body: bytes) -> str:
    return base64.urlsafe_b64encode(hmac.new(_repeat_key(secret), body, hashlib.sha256).digest()[:16]).decode().rstrip("=")


def _epoch(when: Optional[datetime]) -> str:
    return str(int(when.timestamp())) if when is not None else ""


def repeat_token(secret: str, serial: str, verdict: str, reason: Optional[str], previous_scans: int,
                 first_scan_at: Optional[datetime], scanned_at: datetime) -> str:
    """The signed value of a label's cookie after a genuine label's scan: the fields, base64url,
    a dot, and a 128-bit HMAC-SHA256 of them (the label signatures' way, ``digital_link``)."""
    fields = "|".join((serial, verdict, reason or "", str(int(previous_scans)), _epoch(first_scan_at),
                       _epoch(scanned_at)))
    body = base64.urlsafe_b64encode(fields.encode()).decode().rstrip("=")
    return f"{body}.{_mac(secret, body.encode())}"


def repeat_fields(token: str) -> list[str]:
    """The fields a token carries (what the cookie says, readable by anyone: nothing personal)."""
    body = token.split(".", 1)[0]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode().split("|")


def read_repeat(secret: str, token: Optional[str], serial: str, now: Optional[datetime] = None) -> Optional[dict]:
    """What the browser was shown at its scan of ``serial`` within REPEAT_WINDOW, or None
    (no cookie, a bad signature, another label's, or expired)."""
    from datetime import timezone

    if not token or "." not in token or len(token) > 400:
        return None
    body, mac = token.split(".", 1)
    if not hmac.compare_digest(mac, _mac(secret, body.encode())):
        return None
    try:
        got_serial, verdict, reason, previous, first, scanned = repeat_fields(token)
        scanned_at = datetime.fromtimestamp(int(scanned), timezone.utc)
        first_at = datetime.fromtimestamp(int(first), timezone.utc) if first else None
        previous_scans = int(previous)
    except (ValueError, UnicodeDecodeError):
        return None
    now = now or utcnow()
    if got_serial != serial or verdict not in _REPEAT_VERDICTS or not (
            scanned_at - timedelta(minutes=5) <= now <= scanned_at + REPEAT_WINDOW):
        return None
    return {"verdict": verdict, "reason": reason or None, "previous_scans": previous_scans,
            "first_scan_at": first_at, "scanned_at": scanned_at}


def judge_repeat(earlier: dict, recalled: bool) -> tuple[str, Optional[str]]:
    """The verdict on a repeat: what the browser was told, unless the lot has been recalled since."""
    if recalled:
        return "suspicious", "recalled"
    return earlier["verdict"], earlier["reason"]
