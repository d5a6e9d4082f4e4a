"""One spelling per page: the canonical form of an article URL, so that a page linked with
tracking parameters, as its AMP variant or with a trailing slash is known as the same page."""
from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from courlan import normalize_url

log = logging.getLogger(__name__)

# Query parameters that say where a click came from, not which page it is (courlan drops utm_* and more).
_TRACKING = re.compile(r"^(?:utm_\w+|fbclid|gclid|dclid|msclkid|mc_[ce]id|ocid|cmpid|icid|ito|xtor|at_\w+|"
                       r"ref|ref_src|smid|mkt_tok|_ga|_gl|igshid|amp|outputtype|__twitter_impression)$",
                       re.IGNORECASE)


def _strip_amp(host: str, path: str) -> tuple[str, str]:
    host = host.removeprefix("amp.")
    path = re.sub(r"\.amp(\.html?)?$", lambda m: m.group(1) or "", path)
    path = re.sub(r"(?:^|/)amp(?=/|$)", "", path, count=1) or "/"
    return host, path


def canonical_url(url: str) -> str:
    """The canonical form of ``url``: scheme and host in lower case, default port, fragment,
    tracking parameters and AMP markers (``amp.`` host, ``/amp`` segment, ``.amp.html``,
    ``?amp``, ``outputType=amp``) dropped, the remaining query sorted, and no trailing
    slash except for the site root. A string that is not an http(s) URL comes back stripped."""
    url = url.strip()
    try:
        parts = urlsplit(normalize_url(url, strict=False))
    except (ValueError, TypeError):
        return url
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return url
    host = parts.netloc.lower()
    if (parts.scheme, host.rpartition(":")[2]) in (("http", "80"), ("https", "443")):
        host = host.rpartition(":")[0]
    host, path = _strip_amp(host, parts.path or "/")
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k))
    return urlunsplit((parts.scheme, host, path, urlencode(query), ""))


def host_of(url: str) -> str:
    """The host and port of ``url`` (what politeness counts per), lower case; '' when there is none."""
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:
        return ""
