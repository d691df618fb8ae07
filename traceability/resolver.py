"""The GS1 Digital Link resolver rules (GS1 Digital Link standard, resolver section; RFC 9264).

A label's URI answers people with the consumer scan page (the default, unchanged). Other systems
ask by link type: ``Accept: application/linkset+json`` or ``?linkType=all`` gives the linkset of the
label (RFC 9264 JSON: a ``linkset`` array of one context object, anchored at the label's URI, whose
keys are GS1 web vocabulary link types), and ``?linkType=gs1:pip`` (or the full URI
``https://gs1.org/voc/pip``) redirects (307) to that one target. None of these is a consumer's
scan: nothing is recorded (docs/traceability.md, "Resolver").

Pure rules: which link types the resolver serves, how a request names one, the linkset and the
``/.well-known/gs1resolver`` description. The views fill in the targets.
"""
from __future__ import annotations

from typing import Optional

GS1_VOC = "https://gs1.org/voc/"
LINKSET_TYPE = "application/linkset+json"
ALL = "all"
DEFAULT = "gs1:defaultLink"

# The link types a label answers, in the order the linkset lists them, with the target's media type.
LINK_TYPES: dict[str, str] = {
    "gs1:pip": "text/html",                   # product information page (the lot's public page)
    "gs1:certificationInfo": "application/json",
    "gs1:traceability": "application/json",
    "gs1:recallStatus": "application/json",
}
DEFAULT_LINK_TYPE = "gs1:pip"
LANGUAGES = ["zh-CN", "en"]


class UnknownLinkType(ValueError):
    """A ``linkType`` this resolver does not serve (the answer names the ones it does)."""


def link_type_uri(short: str) -> str:
    """``gs1:pip`` -> ``https://gs1.org/voc/pip``."""
    return GS1_VOC + short.split(":", 1)[1]


def parse_link_type(value: str) -> str:
    """The short form of a requested link type: ``all``, or one of ``LINK_TYPES`` (also
    ``gs1:defaultLink``), given as ``gs1:x`` or as its full URI (http or https)."""
    value = (value or "").strip()
    if value == ALL:
        return ALL
    for prefix in (GS1_VOC, "http://gs1.org/voc/"):
        if value.startswith(prefix):
            value = "gs1:" + value[len(prefix):]
            break
    if value == DEFAULT:
        return DEFAULT_LINK_TYPE
    if value not in LINK_TYPES:
        raise UnknownLinkType(value)
    return value


def wants_linkset(link_type: Optional[str], accept) -> bool:
    """``?linkType=all``, or an Accept header that prefers the linkset to HTML and JSON."""
    if link_type is not None:
        return link_type == ALL
    best = accept.best_match([LINKSET_TYPE, "text/html", "application/json"])
    return best == LINKSET_TYPE and accept[LINKSET_TYPE] > accept["text/html"]


def linkset(anchor: str, targets: dict[str, str], titles: dict[str, str]) -> dict:
    """The label's linkset (RFC 9264 section 4.2): one context object anchored at the label's
    URI; each GS1 link type a list of target objects; ``gs1:defaultLink`` the default's target."""
    context: dict = {"anchor": anchor}
    for short, media in LINK_TYPES.items():
        context[link_type_uri(short)] = [{"href": targets[short], "title": titles[short], "type": media,
                                          "hreflang": LANGUAGES}]
    context[link_type_uri(DEFAULT)] = [{"href": targets[DEFAULT_LINK_TYPE], "title": titles[DEFAULT_LINK_TYPE],
                                        "type": LINK_TYPES[DEFAULT_LINK_TYPE], "hreflang": LANGUAGES}]
    return {"linkset": [context]}


def link_header(linkset_href: str) -> str:
    """The Link header every label answer carries: where its linkset is (RFC 9264 section 6)."""
    return f'<{linkset_href}>; rel="linkset"; type="{LINKSET_TYPE}"'


def description(root: str, name: str) -> dict:
    """``/.well-known/gs1resolver``: what this resolver serves (GS1 Digital Link resolver description)."""
    return {
        "name": name,
        "resolverRoot": root,
        "supportedPrimaryKeys": ["01"],
        "supportedKeyQualifiers": {"01": ["10", "21"]},
        "linkTypeDefaultCanBeAll": False,
        "supportedLinkType": [{"namespace": GS1_VOC, "prefix": "gs1:"}],
        "linkTypes": [DEFAULT] + list(LINK_TYPES),
        "linksetMediaType": LINKSET_TYPE,
        "validityOfLinks": "A label's links are given only for a label issued here with a valid signature (s=...).",
    }
