"""Site boilerplate learned from the corpus itself.

Cookie, ad-blocker, newsletter and notification banners survive cleaning in any
language ("OK Wir setzen auf Cookies ...", "我们注意到您正在屏蔽广告", "Close Get email
notifications on ..."), and they make one site's unrelated articles look like
copies of each other. What gives them away is repetition: the same line in many
articles. A sentence (scrapers often deliver a page as one line; at least
``min_chars`` long) already seen in ``min_articles`` articles is boilerplate, and
is removed from an article before its signature, vector and fingerprint are made,
unless such sentences are more than half of the article: then it is itself a copy,
and its sentences are repeated because it is. The removed sentences are listed
in the article's cleaning report, like other debris.
"""
from __future__ import annotations

import dataclasses
import hashlib
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from samestory.text import sentences
from samestory.types import Article

_SPACES = re.compile(r"[ \t]+")


@dataclass(frozen=True)
class BoilerplateSettings:
    min_chars: int = 20
    min_articles: int = 5
    max_share: float = 0.5


def line_key(line: str) -> int:
    """A sentence's identity: case and spacing folded, 63 bits (an SQLite integer)."""
    digest = hashlib.blake2b(" ".join(line.casefold().split()).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def _units(article: Article, settings: BoilerplateSettings) -> list[str]:
    return [s for s in sentences(article.text) if len(s) >= settings.min_chars]


def article_keys(article: Article, settings: BoilerplateSettings = BoilerplateSettings()) -> list[int]:
    """The distinct keys of an article's sentences long enough to count."""
    return list(dict.fromkeys(line_key(s) for s in _units(article, settings)))


def strip_boilerplate(articles: Sequence[Article], seen: Callable[[list[int]], dict[int, int]],
                      settings: BoilerplateSettings = BoilerplateSettings()) -> tuple[list[Article], list[list[int]]]:
    """The articles without their boilerplate lines, and each one's line keys (to count).

    ``seen(keys)`` gives how many stored articles had each line; the batch's own
    articles count too, so a banner is caught in the very batch where it first appears."""
    keys = [article_keys(a, settings) for a in articles]
    counts = Counter(k for ks in keys for k in ks)
    stored = seen(list(counts)) if counts else {}
    out = []
    for article, ks in zip(articles, keys):
        frequent = {k for k in ks if counts[k] + stored.get(k, 0) >= settings.min_articles}
        if not frequent or len(frequent) > settings.max_share * len(ks):
            out.append(article)
            continue
        text, removed = article.text, []
        for sentence in dict.fromkeys(_units(article, settings)):
            if line_key(sentence) in frequent and sentence in text:
                text = text.replace(sentence, "")
                removed.append(sentence)
        text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines())
        cleaning = dataclasses.replace(article.cleaning, removed=(*article.cleaning.removed, *removed))
        out.append(dataclasses.replace(article, text=text.strip(), cleaning=cleaning))
    return out, keys
