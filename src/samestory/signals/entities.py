"""Named things an article mentions, and how two articles' sets overlap.

No multilingual NER model ships on PyPI for offline use, so this is a transparent
heuristic: runs of capitalised words (cased scripts), a GeoNames/ISO gazetteer for
places in any script, cue words for organisations, two-to-four-word names for
people. Mentions are matched across articles on transliterated keys with fuzzy
matching (rapidfuzz), so "Petrov", "Petrov's" and "Петров" are one entity.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from rapidfuzz import fuzz, process

from samestory.signals.normalize import fold
from samestory.signals.places import gazetteer
from samestory.text.units import sentences
from samestory.types import Mention

KINDS = ("person", "organisation", "place", "other")

_UPPER = "A-ZÀ-ÖØ-ÞĀĂĄĆĈĊČĎĐĒĖĘĚĞĠĢĤĦĨĪĮİĶĹĻĽŁŃŅŇŌŐŒŔŖŘŚŜŞŠŢŤŦŨŪŬŮŰŲŴŶŸŹŻŽА-ЯЁΑ-Ω"
_WORD = rf"(?:[{_UPPER}][\w'’\-.]*\w|[{_UPPER}])"
_LINK = r"(?:\s+(?:de|del|della|di|da|do|dos|van|von|der|den|la|le|al|el|bin|ibn|of|for)(?=\s+[" + _UPPER + r"]))"
_RUN = re.compile(rf"{_WORD}(?:{_LINK}?\s+{_WORD})*")
_POSSESSIVE = re.compile(r"(?:['’]s|['’])$")
_ACRONYM = re.compile(r"^[A-ZА-Я]{2,6}$")
# Words that never start or end a name (the evidence's extractor adds more: aliases.STOP).
STOP_WORDS = frozenset(
    """the a an in on at for of and but or if as by with from to this that these those it he she
    they we you i his her their its our my mr mrs ms dr prof president minister monday tuesday
    wednesday thursday friday saturday sunday january february march april may june july august
    september october november december der die das ein eine und im am auf für mit von zu bei
    nach über herr frau es sie er wir ich el la los las un una y en del al por para con como
    según lo se le les des du et à dans pour avec sur au aux il elle ils nous vous je une
    il lo gli le i della dello nel nella per che con w na z do i oraz jak to że się nie pan
    pani bu ve bir ile için gibi da de ki olarak в на и с по о что как это не он она они""".split()
)
# Roles written before a name ("Deputy Foreign Minister Ivan Petrov").
_ROLES = frozenset(
    """deputy foreign minister prime president vice secretary general state spokesman spokeswoman
    spokesperson chancellor chief executive ceo chairman governor mayor senator ambassador judge
    interior defence defense health finance economy king queen prince pope sir lord gen col lt
    bundeskanzler bundeskanzlerin kanzlerin ministerin präsident präsidentin ministro presidente
    ministre président ministra minister prezydent premier bakan bakanı cumhurbaşkanı министр
    президент заместитель""".split()
)
_ORG_CUES = re.compile(
    r"\b(?:ministry|council|bank|party|university|police|agency|company|corp|inc|ltd|group|union|"
    r"organi[sz]ation|association|committee|court|government|parliament|commission|office|"
    r"institute|department|nations|army|forces|federation|news|times|post|press|club|fc|"
    r"ministerium|partei|universität|polizei|gericht|regierung|bundestag|verband|"
    r"ministerio|partido|universidad|policía|gobierno|tribunal|ministère|parti|université|"
    r"gouvernement|ministero|partito|università|polizia|governo|ministerstwo|partia|policja|"
    r"rząd|sąd|bakanlığı|partisi|üniversitesi|министерство|партия|совет|суд|агентство)\b",
    re.IGNORECASE,
)

# Regions named by their position ("South Holland", "Northern Ireland"; the gazetteer
# holds countries and cities, not provinces) and storms named like people ("Storm
# Ingrid") are two capitalised words that are not a person.
_POSITION = frozenset("north south east west northern southern eastern western central nord süd sud ost norte".split())
_STORM = frozenset("storm hurricane typhoon cyclone sturm orkan tempête ouragan tormenta huracán tifone uragano".split())


def _strip(run: str) -> str:
    words = [_POSSESSIVE.sub("", w) for w in run.split()]
    while words and (words[0].lower().strip(".") in STOP_WORDS or words[0].lower() in _ROLES):
        words.pop(0)
    while words and words[-1].lower().strip(".") in STOP_WORDS:
        words.pop()
    return " ".join(words).strip(" .-’'")


def _kind(name: str, country: str | None) -> str:
    if country:
        return "place"
    if _ORG_CUES.search(name) or _ACRONYM.match(name):
        return "organisation"
    words = name.split()
    if len(words) >= 2 and words[0].lower() in _STORM:
        return "other"
    if len(words) >= 2 and words[0].lower().split("-")[0] in _POSITION:
        return "place"
    if 2 <= len(words) <= 4 and all(w[:1].isupper() for w in words):
        return "person"
    return "other"


def extract_mentions(text: str, lang: str = "und") -> list[Mention]:
    """Distinct mentions in order of first appearance."""
    gaz = gazetteer()
    seen: dict[str, Mention] = {}

    def add(surface: str, kind: str, country: str | None) -> None:
        key = fold(surface)
        if len(key) >= 2 and key not in seen:
            seen[key] = Mention(text=surface, kind=kind, key=key, country=country)

    lowercase_words = {w.lower() for w in re.findall(r"\b[^\W\d_]+\b", text) if w.islower()}
    for sent in sentences(text):
        runs = ((m.start() + piece.start(), piece.group(0)) for m in _RUN.finditer(sent)
                for piece in re.finditer(r"\S.*?(?:['’]s(?=\s)|$)", m.group(0)))  # split at possessives
        for start, run in runs:
            name = _strip(run)
            if not name:
                continue
            at_start = not sent[:start].strip(" \"'“„«(")
            single = " " not in name
            # A lone capitalised word that opens a sentence, or that the text also
            # writes in lower case (German nouns), is usually not a name.
            if (single and not _ACRONYM.match(name) and (at_start or name.lower() in lowercase_words)
                    and not gaz.country(name)):
                continue
            country = gaz.country(name)
            if country is None and not single:
                # "Moscow-NATO", "NATO Russia Council": a place inside a longer name.
                for part in re.split(r"[\s\-]+", name):
                    if part and gaz.country(part):
                        add(part, "place", gaz.country(part))
            add(name, _kind(name, country), country)
    for surface, country in gaz.scan_uncased(text):
        add(surface, "place", country)
    return list(seen.values())


def countries(mentions: Iterable[Mention]) -> set[str]:
    return {m.country for m in mentions if m.country}


def match(a: list[Mention], b: list[Mention], threshold: float = 88.0) -> list[tuple[Mention, Mention]]:
    """Pairs of mentions that name the same thing (one-to-many allowed)."""
    if not a or not b:
        return []
    b_keys = [m.key for m in b]
    pairs = []
    for ma in a:
        hit = process.extractOne(ma.key, b_keys, scorer=fuzz.token_set_ratio, score_cutoff=threshold)
        if hit is not None:
            mb = b[hit[2]]
            if ma.kind == "place" and mb.kind == "place" and ma.country != mb.country:
                continue
            pairs.append((ma, mb))
    return pairs
