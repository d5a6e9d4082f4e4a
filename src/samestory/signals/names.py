"""The entities a reader is shown: named things an article mentions, one mention each.

The evidence of ``compare`` lists them (``scoring.evidence``); the scorer's entity
features read ``entities`` instead, whose older, noisier rules they were trained on.
No multilingual NER model ships on PyPI for offline use, so this is a transparent
heuristic: runs of capitalised words (cased scripts), the gazetteer's canonical places
in any script (``places``), cue words for organisations, two-to-four-word names for
people. One entity is one mention, under one key:

* a place is its gazetteer entry, named in English ("U.S.", "US" and "United States"
  are "United States"; "Deutschland" is "Germany"; "Den Haag" is "The Hague");
* an acronym that the text writes out ("Organization for Security and Co-operation in
  Europe (OSCE)"), or whose words it also uses ("United Nations" ... "UN"), is one
  organisation under the acronym;
* a lone surname is the person whose full name the text gives ("Grushko" is
  "Alexander Grushko"); a named storm is "storm NAME" in any language;
* a run of capitalised words is cut where a title starts ("White House of US President
  Joe Biden" is "White House", "US" and "Joe Biden"), and a hyphenated compound of
  known names is its parts ("Russia-NATO" is Russia and NATO);
* in German, where every noun is capitalised, common nouns (``aliases.german_nouns``)
  and the prepositions, articles and number words before a name are not names
  ("Zwischen Rotterdam" is Rotterdam; "Millionen Euro" is nothing).

Mentions of two articles are matched on these keys, then on close keys within a kind
(rapidfuzz), then a lone surname to a full name (``pair_up``: one to one). Extraction
is one pass over the text with dictionary look-ups: linear in its length.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from samestory.signals.aliases import (
    ARABIC_ARTICLE,
    COMPASS,
    DE_ARTICLE,
    DE_ROLE,
    HONORIFIC,
    LINKS,
    ORG_CUES,
    ROLES,
    STOP,
    STORM,
    GermanNouns,
    date_words,
    expansions,
    german_nouns,
)
from samestory.signals.normalize import fold
from samestory.signals.places import Gazetteer, Place, gazetteer
from samestory.text.units import sentences
from samestory.types import Mention

_UPPER = "A-ZÀ-ÖØ-ÞĀĂĄĆĈĊČĎĐĒĖĘĚĞĠĢĤĦĨĪĮİĶĹĻĽŁŃŅŇŌŐŒŔŖŘŚŜŞŠŢŤŦŨŪŬŮŰŲŴŶŸŹŻŽА-ЯЁΑ-Ω"
_WORD = rf"(?:[{_UPPER}][\w'’\-.]*\w|[{_UPPER}])"
_LINK = r"(?:\s+(?:" + "|".join(LINKS) + r")(?=\s+[" + _UPPER + r"]))"
_RUN = re.compile(rf"{_WORD}(?:{_LINK}?\s+{_WORD})*")
_PIECE = re.compile(r"\S.*?(?:['’]s(?=\s)|$)")          # a run, cut after each possessive
# "Peskov's", "Reuters'", and Turkish case endings after a name ("İtalya'dan", "Çin'de").
_POSSESSIVE = re.compile(r"(?:['’]s|['’]|['’][a-zçğıöşüâî]{1,5})$")
_ACRONYM = re.compile(r"^[A-ZА-Я]{2,6}$")


@dataclass(frozen=True)
class _Found:
    text: str
    kind: str
    key: str
    country: str | None = None
    weak: bool = False      # a lone word that is a name only as the surname of a person found too


@dataclass(frozen=True)
class _Reader:
    """The rules that turn one run of capitalised words into names, for one text."""

    gaz: Gazetteer
    nouns: GermanNouns | None            # German texts only
    dates: frozenset[str]
    lowercase: frozenset[str]            # words the text also writes in lower case

    def place(self, name: str) -> Place | None:
        place = self.gaz.place(name)
        if place is None and self.nouns is not None and name.endswith("s") and " " not in name:
            place = self.gaz.place(name[:-1])            # German genitive: "Europas"
        return place

    def read(self, run: str, at_start: bool, before: list[str]) -> Iterator[_Found]:
        """Names in one run; ``before``: the (up to two) words before it in its sentence."""
        whole = self.place(_POSSESSIVE.sub("", run))
        if whole is not None:                            # "The Hague", "Den Haag", "Los Angeles"
            yield _place(whole)
            return
        tokens = [_POSSESSIVE.sub("", w) for w in run.split()]
        cue = bool(ORG_CUES.search(run))
        segment: list[str] = []
        first = True
        for i, token in enumerate(tokens):
            parts = token.split("-")
            split_link = self.nouns is not None and token in ("der", "den") and i > 0
            if split_link or (len(parts) > 1 and not cue and self._compound(token, parts)):
                yield from self._segment(segment, at_start and first, before)
                first, segment = False, []
                if split_link:
                    before = [token]
                    continue
                for part in parts:
                    if part[:1].isupper():
                        yield from self._segment([part], False, [])
                continue
            segment.append(token)
        yield from self._segment(segment, at_start and first, before)

    def _compound(self, token: str, parts: list[str]) -> bool:
        """"Russia-NATO", "U.S.-led": a hyphenated word made of known names."""
        if self.gaz.place(token):
            return False
        names = [p for p in parts if p[:1].isupper()]
        return (all(self.gaz.place(p) is not None or bool(_ACRONYM.match(p.replace(".", ""))) for p in names)
                and (len(names) > 1 or parts[-1].islower()))

    def _segment(self, tokens: list[str], at_start: bool, before: list[str]) -> Iterator[_Found]:
        """Names in a run of capitalised words, after leading titles, articles and
        (German) nouns, cut at each title in the middle ("US President Joe Biden").
        Linear in the run's length, however long (a text in capitals is one run)."""
        n = len(tokens)
        cue_from = [False] * (n + 1)                       # an organisation's cue word at or after i
        for i in range(n - 1, -1, -1):
            cue_from[i] = cue_from[i + 1] or bool(ORG_CUES.search(tokens[i]))
        after_article = self.nouns is not None and _after_article(before)
        i, previous = 0, ""
        while i < n:
            low = tokens[i].lower().strip(".")
            if i + 1 < n and (low in STORM or (low in ARABIC_ARTICLE and not at_start)):
                break                                       # "Sturms Ingrid", "Al Jazeera"
            # a leading title goes, unless what follows is an organisation ("Foreign Office")
            role = (self._role(tokens, i) or (low == "state" and previous == "of")) and not cue_from[i + 1]
            if (low in STOP and not _ACRONYM.match(tokens[i])) or role:
                after_article = self.nouns is not None and low in DE_ARTICLE
            elif self.nouns is not None and i + 1 < n and self._noun_before_name(tokens, i, after_article):
                after_article = False
            else:
                break
            previous, at_start, i = low, False, i + 1
        end = n
        while end > i and not _ACRONYM.match(tokens[end - 1]) and (tokens[end - 1].lower().strip(".") in STOP or
                                                                   tokens[end - 1].lower().strip(".") in ROLES - {"state"}):
            end -= 1
        start, j = i, i + 1
        while j < end - 1:
            if not self._role(tokens, j):
                j += 1
                continue
            after = j
            while after < end and (self._role(tokens, after) or tokens[after].lower() in LINKS):
                after += 1
            if after < end and not cue_from[after]:
                yield from self._before_title(tokens[start:j])
                start, at_start, after_article = after, False, False
            j = after + 1
        yield from self._name(tokens[start:end], at_start, after_article)

    def _role(self, tokens: list[str], j: int) -> bool:
        low = tokens[j].lower().strip(".")
        if low == "state":                                 # "Secretary of State", not "Islamic State"
            return j > 0 and tokens[j - 1].lower() == "of"
        if low in ROLES:
            return True
        return (self.nouns is not None and j + 1 < len(tokens) and tokens[j + 1][:1].isupper()
                and bool(DE_ROLE.search(low.split("-")[-1])))

    def _noun_before_name(self, tokens: list[str], i: int, after_article: bool) -> bool:
        """German: "das Logistikunternehmen Nordfracht", "mit Ziel Duisburg", "Rotterdamer Hafen"."""
        assert self.nouns is not None
        word = tokens[i]
        if word.endswith("er") and self.gaz.place(word[:-2]):   # a place's adjective: "Rotterdamer"
            return True
        rest_is_place = i + 2 == len(tokens) and self.place(tokens[i + 1]) is not None
        return (after_article or rest_is_place) and self.nouns.is_noun(word, True)

    def _before_title(self, tokens: list[str]) -> Iterator[_Found]:
        """"White House of US" before "President": the place the title belongs to is its own name."""
        k = max((k for k in range(1, len(tokens) - 1) if tokens[k].lower() in LINKS), default=0)
        if k and self.place(" ".join(tokens[k + 1:])):
            yield from self._name(tokens[:k], False, False)
            yield from self._name(tokens[k + 1:], False, False)
        else:
            yield from self._name(tokens, False, False)

    def _name(self, tokens: list[str], at_start: bool, after_article: bool) -> Iterator[_Found]:
        name = " ".join(tokens).strip(" .-’'")
        if len(fold(name)) < 2:
            return
        place = self.place(name)
        if place is not None:
            yield _place(place)
            return
        if len(tokens) == 1:
            yield from self._single(name, at_start, after_article)
            return
        words = name.split()
        first = words[0].lower()
        places = [self.place(w) for w in words]
        if all(places):                                        # "İspanya Çin": two places side by side
            yield from (_place(p) for p in places if p)
            return
        if first in STORM:
            yield _Found(name, "other", "storm " + fold(" ".join(words[1:])))
            return
        for part in re.split(r"[\s\-]+", name):               # "NATO Russia Council": Russia
            part_place = self.gaz.place(part) if part else None
            if part_place is not None and part_place.country:
                yield _place(part_place)
        if ORG_CUES.search(name):
            kind = "organisation"
        elif first.split("-")[0] in COMPASS:
            yield _Found(name, "place", " ".join([COMPASS[first.split("-")[0]], *self._keys(words[1:])]))
            return
        elif first in ARABIC_ARTICLE:
            kind = "other"                                    # "Al Jazeera"
        elif 2 <= len(words) <= 4 and all(w[:1].isupper() for w in words):
            kind = "person"
        else:
            kind = "other"
        yield _Found(name, kind, fold(name))

    def _keys(self, words: list[str]) -> list[str]:
        rest = self.place(" ".join(words))
        return [fold(rest.name)] if rest else [fold(w) for w in words]

    def _single(self, name: str, at_start: bool, after_article: bool) -> Iterator[_Found]:
        if _ACRONYM.match(name):
            yield _Found(name, "organisation", fold(name))
            return
        low = name.lower()
        if low in self.dates:
            return
        # A lone capitalised word that opens a sentence, or that the text also writes in
        # lower case, or (German) a common noun, is a name only as a known person's surname.
        weak = at_start or low in self.lowercase or (self.nouns is not None and self.nouns.is_noun(name, after_article))
        yield _Found(name, "other", fold(name), weak=weak)


def _place(place: Place) -> _Found:
    return _Found(place.name, "place", fold(place.name), place.country)


def _after_article(before: list[str]) -> bool:
    """"der Sturm", "des größten Hafens": an article, or an article and an adjective."""
    words = [w.lower() for w in before[-2:]]
    return bool(words) and (words[-1] in DE_ARTICLE or (len(words) == 2 and words[0] in DE_ARTICLE
                                                         and words[1].isalpha() and words[1].islower()))


def _runs(sentence: str) -> Iterator[tuple[int, str]]:
    for m in _RUN.finditer(sentence):
        for piece in _PIECE.finditer(m.group(0)):          # split at possessives
            yield m.start() + piece.start(), piece.group(0)


@lru_cache(maxsize=128)
def extract_entities(text: str, lang: str = "und") -> tuple[Mention, ...]:
    """Distinct entities in order of first appearance, one mention each (see the module
    docstring). Kept for the last texts seen: every pair an article is in asks again."""
    gaz = gazetteer()
    reader = _Reader(gaz=gaz, nouns=german_nouns() if lang == "de" else None, dates=date_words(),
                     lowercase=frozenset(w.lower() for w in re.findall(r"\b[^\W\d_]+\b", text) if w.islower()))
    found: list[_Found] = []
    previous = ""
    for sent in sentences(text):
        after_honorific = bool(HONORIFIC.search(previous))      # "Mr." ended the last "sentence"
        previous = sent
        for exp in expansions(sent):
            place = gaz.place(exp.name)
            found.append(_place(place) if place else
                         _Found(f"{exp.name} ({exp.acronym})", "organisation", fold(exp.acronym)))
            sent = sent[:exp.start] + " " * (exp.end - exp.start) + sent[exp.end:]
        for start, run in _runs(sent):
            at_start = not after_honorific and not sent[:start].strip(" \"'“„«(‘[")
            found.extend(reader.read(run, at_start, sent[max(0, start - 60):start].split()[-2:]))
    found.extend(_place(place) for _, place in gaz.scan_places(text))
    return tuple(_resolve(found))


def _resolve(found: list[_Found]) -> list[Mention]:
    """One mention per entity: surnames join their person, a written-out organisation
    its acronym; weak lone words that join nothing are dropped."""
    named: dict[str, _Found] = {}                 # key -> how the entity is named
    surname: dict[str, str] = {}
    acronyms = {f.key: f.text for f in found if f.kind == "organisation" and _ACRONYM.match(f.text)}
    expanded: dict[str, str] = {}                 # "united nations" -> "un"
    for f in found:
        words = f.key.split()
        if f.kind == "organisation" and f.text.endswith(")"):     # written out in the text: "... (OSCE)"
            named.setdefault(f.key, f)
            expanded.setdefault(fold(f.text[:f.text.rindex(" (")]), f.key)
        elif f.kind == "person":
            named.setdefault(f.key, f)
            surname.setdefault(words[-1], f.key)
        elif f.kind == "organisation" and len(words) > 1:
            initials = "".join(w[0] for w in f.text.split() if w[:1].isupper()).lower()
            if initials in acronyms:
                expanded[f.key] = initials
                named.setdefault(initials, _Found(f"{f.text} ({acronyms[initials]})", "organisation", initials))
    out: dict[str, Mention] = {}
    for f in found:
        key = f.key
        if f.kind == "other" and " " not in key and key in surname:
            key = surname[key]
        elif f.weak:
            continue
        key = expanded.get(key, key)
        if key not in out:
            name = named.get(key, f)
            out[key] = Mention(text=name.text, kind=name.kind, key=key, country=name.country)
    return list(out.values())


_FUZZY = 88.0


def _fuzzy(m: Mention) -> bool:
    """Gazetteer places match on their key alone: two different cities are not a typo apart."""
    return not (m.kind == "place" and gazetteer().place(m.key) is not None)


def match_entities(a: list[Mention], b: list[Mention],
                   threshold: float = _FUZZY) -> list[tuple[Mention, Mention]]:
    """For each mention of ``a``, the mention of ``b`` that names the same thing, if any
    (several of ``a`` may find the same one of ``b``): the same key; else a close key of
    the same kind (rapidfuzz ratio >= ``threshold``); else a lone surname and a full name."""
    if not a or not b:
        return []
    by_key: dict[str, Mention] = {}
    by_surname: dict[str, Mention] = {}
    pools: dict[str, tuple[list[str], list[Mention]]] = {}
    for m in b:
        by_key.setdefault(m.key, m)
        if m.kind == "person":
            by_surname.setdefault(m.key.split()[-1], m)
        if _fuzzy(m):
            keys, ms = pools.setdefault(m.kind, ([], []))
            keys.append(m.key)
            ms.append(m)
    pairs = []
    for ma in a:
        mb = by_key.get(ma.key)
        if mb is None and " " not in ma.key and ma.kind != "place":
            mb = by_surname.get(ma.key)
        if mb is None and ma.kind == "person":
            lone = by_key.get(ma.key.split()[-1])
            mb = lone if lone is not None and lone.kind != "place" else None
        if mb is None and ma.kind in pools and _fuzzy(ma):
            keys, ms = pools[ma.kind]
            hit = process.extractOne(ma.key, keys, scorer=fuzz.ratio, score_cutoff=threshold)
            mb = ms[hit[2]] if hit is not None else None
        if mb is not None:
            pairs.append((ma, mb))
    return pairs


def pair_up(a: list[Mention], b: list[Mention]) -> list[tuple[Mention, Mention]]:
    """``match_entities``, one to one: each mention of either side is in at most one pair (the
    same key first), so that an entity is shared, or only in one article, never both."""
    pairs: dict[int, tuple[Mention, Mention]] = {}           # position in a -> pair
    b_by_key: dict[str, Mention] = {}
    for m in b:
        b_by_key.setdefault(m.key, m)
    used_b: set[str] = set()
    for i, ma in enumerate(a):
        mb = b_by_key.get(ma.key)
        if mb is not None and mb.key not in used_b:
            pairs[i] = (ma, mb)
            used_b.add(mb.key)
    rest_a = [i for i in range(len(a)) if i not in pairs]
    found = dict(match_entities([a[i] for i in rest_a], [m for m in b if m.key not in used_b]))
    for i in rest_a:
        mb = found.get(a[i])
        if mb is not None and mb.key not in used_b:
            pairs[i] = (a[i], mb)
            used_b.add(mb.key)
    return [pairs[i] for i in sorted(pairs)]
