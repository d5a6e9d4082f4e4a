"""Word lists and text patterns that decide what a name is, for ``names``.

* Date words (month and weekday names, CLDR's through Babel): a capitalised word that
  is a date is not a name ("Dienstag", "Feb").
* German common nouns (wordfreq's tables): German capitalises every noun, so a
  capitalised word is a name only if it is not a common German word. ``strong``:
  words far more frequent in German than in English (``Sicherheit``, ``Hafen``;
  names such as ``Ingrid`` or ``Putin`` are frequent in both); ``common``: any
  frequent German word, a noun when an article stands before it ("dieses Winters",
  "des größten Hafens").
* Acronyms written out in the text itself: "Organization for Security and
  Co-operation in Europe (OSCE)".

The two word lists are built once (about a second) and kept as JSON in samestory's
cache folder, keyed by the versions of their sources and of the rules here.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from samestory.signals.entities import STOP_WORDS

# Words around names, for ``names``.
LINKS = "de del della di da do dos van von der den la le al el bin ibn of for".split()
STOP = STOP_WORDS | frozenset(
    """den dem des einer einem eines einen zwischen wegen trotz während laut gegen ohne um durch seit
    bis unter vor hinter neben aus außer gegenüber zum zur vom beim ins dieser diese dieses
    millionen milliarden million milliarde tausend hundert millones mil milliards
    euro euros dollar dollars pfund rubel yuan yen а но пока также однако при для из за от к у во со""".split()
)
# Roles written before a name ("Deputy Foreign Minister Ivan Petrov").
ROLES = frozenset(
    """deputy foreign minister prime president vice secretary general state spokesman spokeswoman
    spokesperson chancellor chief executive ceo chairman governor mayor senator ambassador judge
    interior defence defense health finance economy king queen prince pope sir lord gen col lt
    bundeskanzler bundeskanzlerin kanzlerin ministerin präsident präsidentin ministro presidente
    ministre président ministra minister prezydent premier bakan bakanı cumhurbaşkanı министр
    президент заместитель""".split()
)
# German roles are compounds ("Hafenmeisterin", "Regierungssprecher"): a role only
# before another name, since several are surnames too ("Gerhard Richter").
DE_ROLE = re.compile(r"(?:meister|minister|präsident|sprecher|chef|leiter|direktor|kanzler|botschafter|"
                     r"sekretär|kommissar|vorsitzende|beauftragte|politiker|trainer|experte|richter|"
                     r"anwalt|anwält|senator|abgeordnete)(?:in|innen|s|n|r)?$")
# German words before a noun: articles, and prepositions that carry one.
DE_ARTICLE = frozenset(
    """der die das den dem des ein eine einen einem einer eines kein keine keinen keinem keiner keines
    dieser diese dieses diesen diesem jener jene jenes jeder jede jedes jeden jedem sein seine seinen
    seinem seiner ihr ihre ihren ihrem ihrer unser unsere unseren unserem unserer im am zum zur vom
    beim ins""".split()
)
ORG_CUES = re.compile(
    r"\b(?:ministry|council|bank|party|university|police|agency|company|corp|inc|ltd|group|union|"
    r"organi[sz]ation|association|committee|court|government|parliament|commission|office|"
    r"institute|department|nations|army|forces|federation|news|times|post|press|club|fc|house|"
    r"ministerium|partei|universität|polizei|gericht|regierung|bundestag|verband|"
    r"ministerio|partido|universidad|policía|gobierno|tribunal|ministère|parti|université|"
    r"gouvernement|ministero|partito|università|polizia|governo|ministerstwo|partia|policja|"
    r"rząd|sąd|bakanlığı|partisi|üniversitesi|министерство|партия|совет|суд|агентство)\b",
    re.IGNORECASE,
)
# Regions named by their position ("South Holland", "Northern Ireland"; the gazetteer
# holds countries and cities, not provinces), keyed by the compass point; storms
# named like people ("Storm Ingrid", "Sturm Ingrid", "des Sturms Ingrid").
COMPASS = {"north": "north", "northern": "north", "nord": "north", "norte": "north",
           "south": "south", "southern": "south", "süd": "south", "sud": "south",
           "east": "east", "eastern": "east", "ost": "east", "west": "west", "western": "west",
           "central": "central"}
STORM = frozenset("""storm hurricane typhoon cyclone sturm sturms sturmes orkan orkans tief tiefs tempête
                   ouragan tormenta huracán tifone uragano""".split())
HONORIFIC = re.compile(r"(?:^|\s)(?:Mr|Mrs|Ms|Dr|Prof|Gen|Sen|Rep|Gov|Lt|Col|Sgt|Capt|St)\.$")
ARABIC_ARTICLE = frozenset({"al", "el"})

#: Languages whose month and weekday names are read from CLDR (the task's cased ones).
_DATE_LOCALES = ("en", "de", "es", "fr", "it", "pl", "tr", "ru", "nl")
#: Zipf thresholds of the German lists (see the module docstring).
_STRONG_MIN, _STRONG_MARGIN, _COMMON_MIN = 1.5, 1.0, 2.5
_RULES = 1


def _cached(name: str, parts: list[Any], build: Callable[[], dict[str, list[str]]]) -> dict[str, list[str]]:
    """``build()``'s JSON document, kept in the cache folder under a key of ``parts``."""
    import hashlib

    from samestory.embed.base import cache_dir, save_derived

    key = hashlib.sha256(json.dumps([*parts, _RULES]).encode()).hexdigest()
    path = cache_dir() / f"{name}-{key[:16]}.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and all(isinstance(v, list) for v in doc.values()):
            return doc
    except (OSError, ValueError):        # absent or damaged: derived data, build again
        pass
    doc = build()
    save_derived(path, lambda tmp: tmp.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8"),
                 cost=f"the {name} list is built on every start")
    return doc


@cache
def date_words() -> frozenset[str]:
    """Month and weekday names (lower case) in the task's cased languages, and English
    month abbreviations ("feb", "sept")."""
    from importlib import metadata

    def build() -> dict[str, list[str]]:
        from babel.dates import get_day_names, get_month_names

        words: set[str] = set()
        for locale in _DATE_LOCALES:
            for context in ("format", "stand-alone"):
                words.update(n.lower() for n in get_month_names("wide", context, locale).values())
                words.update(n.lower() for n in get_day_names("wide", context, locale).values())
        for locale in ("en", "en_GB"):
            words.update(n.lower().rstrip(".") for n in get_month_names("abbreviated", "format", locale).values())
            words.update(n.lower().rstrip(".") for n in get_day_names("abbreviated", "format", locale).values())
        return {"words": sorted(words)}

    return frozenset(_cached("date-words", [metadata.version("babel"), _DATE_LOCALES], build)["words"])


@dataclass(frozen=True)
class GermanNouns:
    strong: frozenset[str]     # lower case; see the module docstring
    common: frozenset[str]

    def is_noun(self, word: str, after_article: bool) -> bool:
        """Whether a capitalised German ``word`` is a common noun rather than a name."""
        low = word.casefold()                    # wordfreq's tables are case-folded ("schliessung")
        return low in self.strong or (after_article and low in self.common)


@cache
def german_nouns() -> GermanNouns:
    """The two German word lists, from wordfreq's German and English tables."""
    from importlib import metadata

    def build() -> dict[str, list[str]]:
        from wordfreq import available_languages, read_cBpack

        def zipf(lang: str) -> dict[str, float]:
            # bucket i holds the words of frequency -i centibels: Zipf 9 - i/100
            buckets = read_cBpack(available_languages("best")[lang])
            return {w: 9 - i / 100 for i, bucket in enumerate(buckets) for w in bucket if w.isalpha()}

        german, english = zipf("de"), zipf("en")
        strong = {w for w, z in german.items() if z >= _STRONG_MIN and z - english.get(w, 0.0) >= _STRONG_MARGIN}
        common = {w for w, z in german.items() if z >= _COMMON_MIN} - strong
        return {"strong": sorted(strong), "common": sorted(common)}

    doc = _cached("german-nouns", [metadata.version("wordfreq"), _STRONG_MIN, _STRONG_MARGIN, _COMMON_MIN], build)
    return GermanNouns(strong=frozenset(doc["strong"]), common=frozenset(doc["common"]))


# "Organization for Security and Co-operation in Europe (OSCE)": the acronym in
# brackets, the words before it that it abbreviates.
_BRACKETED = re.compile(r"\(([A-ZÀ-ÞА-ЯЁ][A-ZÀ-ÞА-ЯЁ0-9&]{1,9})\)")
_MAX_WORDS = 12
_CLAUSE_END = re.compile(r"[,;:.!?\"“”«»()]$")
_ELISION = re.compile(r"[dlDL]['’](?=\w)")


@dataclass(frozen=True)
class Expansion:
    start: int          # where the written-out name starts in the sentence
    end: int            # just past the bracketed acronym
    name: str           # "Organization for Security and Co-operation in Europe"
    acronym: str        # "OSCE"


def expansions(sentence: str) -> list[Expansion]:
    """Acronyms that the sentence writes out before giving them in brackets. The name
    is the fewest words before the bracket whose initials spell the acronym: the
    capitalised words' initials exactly, or (French, Spanish: "Organisation pour la
    sécurité et la coopération en Europe (OSCE)") in order among all the words'
    initials, from the first word to the last."""
    found = []
    for m in _BRACKETED.finditer(sentence):
        acronym = m.group(1)
        letters = [ch for ch in acronym if ch.isalpha()]
        before = sentence[:m.start()].rstrip()
        words = list(re.finditer(r"\S+", before))[-_MAX_WORDS:]
        for i in range(len(words) - 1, -1, -1):
            text = words[i].group(0)
            if i < len(words) - 1 and _CLAUSE_END.search(text):
                break                                      # a name does not run across a comma
            elision = _ELISION.match(text)                  # "l’Organisation"
            elided = elision.end() if elision else 0
            text = text[elided:]
            if not text[:1].isupper() or text[0] != letters[0]:
                continue
            span = [text] + [w.group(0) for w in words[i + 1:]]
            if _spells(letters, span) and len(span) >= 2:
                found.append(Expansion(start=words[i].start() + elided, end=m.end(),
                                       name=" ".join(span), acronym=acronym))
                break
    return found


def _spells(letters: list[str], words: list[str]) -> bool:
    capitals = [p[0] for w in words for p in w.split("-") if p[:1].isupper()]
    if capitals == letters:
        return True
    initials = [w[0].upper() for w in words]
    if initials[-1] != letters[-1]:
        return False
    it = iter(initials)
    return all(any(ch == x for x in it) for ch in letters)
