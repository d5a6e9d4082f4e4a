"""The entities that ``compare`` shows as evidence (issue 31, item 6: evidence a journalist trusts).

Golden lists, per kind, of what is shared and what only one article names, for the example pair
(read from ../shared/data at test time) and the demo pairs in examples/; then the rules behind
them on sentences written here."""
import time

import pytest
from conftest import EXAMPLES

from samestory.ingest import clean_record, read_record
from samestory.scoring.evidence import entity_lists
from samestory.signals.names import extract_entities, pair_up

KINDS = ("people", "organisations", "places", "other")


def _lists(ev) -> dict[str, tuple[list[str], list[str], list[str]]]:
    return {kind: (sorted(ev.shared_entities[kind]), sorted(ev.only_a_entities[kind]),
                   sorted(ev.only_b_entities[kind])) for kind in KINDS}


def _expect(**kinds: tuple[list[str], list[str], list[str]]) -> dict[str, tuple[list[str], list[str], list[str]]]:
    return {kind: tuple(sorted(names) for names in kinds.get(kind, ([], [], []))) for kind in KINDS}


def _compare(comparer, a, b):
    return comparer.compare(clean_record(read_record(str(a))), clean_record(read_record(str(b)))).evidence


def test_example_pair_golden(comparer, shared):
    a, b = sorted((shared / "example_pair").glob("*.txt"))
    assert _lists(_compare(comparer, a, b)) == _expect(
        people=(["Alexander Grushko"], [], ["Joe Biden", "Dmitry Peskov", "Linda-Thomas Greenfield"]),
        organisations=(["NATO", "NATO Russia Council", "Soviet Union"], [],
                       ["White House", "United Nations (UN)",
                        "Organization for Security and Cooperation in Europe (OSCE)"]),
        places=(["Russia", "Moscow", "Ukraine", "United States", "Geneva", "Washington", "Brussels",
                 "Eastern Europe", "Georgia"], [], ["Kyiv", "New York City", "Vienna"]),
        other=(["Kremlin", "Russian", "Western", "European"], ["West"],
               ["American", "Ukrainian", "Crimean", "Soviet", "Al Jazeera"]),
    )


_STORM_PLACES = ["Rotterdam", "Europe", "Germany", "Belgium", "Duisburg", "Antwerp", "The Hague"]


def test_demo_wire_and_rewrite_golden(comparer):
    ev = _compare(comparer, EXAMPLES / "wire_storm.html", EXAMPLES / "rewrite_storm.txt")
    assert _lists(ev) == _expect(
        people=(["Marleen Vos"], [], []),
        organisations=(["KNMI"], [], []),
        places=([*_STORM_PLACES, "South Holland", "Netherlands"], ["North Sea"], []),
        # "Nordfracht" opens its only sentence in the rewrite: a lone capitalised word there is not taken as a name
        other=(["Storm Ingrid", "Port of Rotterdam", "Dutch", "Maasvlakte", "Zeeland"], ["Nordfracht"], []),
    )


def test_demo_wire_and_german_translation_golden(comparer):
    ev = _compare(comparer, EXAMPLES / "wire_storm.html", EXAMPLES / "translation_storm_de.json")
    assert ev.languages == ("en", "de")
    assert _lists(ev) == _expect(
        people=(["Marleen Vos"], [], []),           # not "Hafenmeisterin Marleen Vos", "Millionen Euro", "Sturms Ingrid"
        organisations=(["KNMI"], [], []),           # not "Wetterdienst KNMI"
        places=(_STORM_PLACES, ["North Sea", "South Holland", "Netherlands"], []),   # Deutschland is Germany
        other=(["Storm Ingrid ~ Sturm Ingrid", "Maasvlakte", "Nordfracht", "Zeeland"], ["Port of Rotterdam", "Dutch"],
               []),                                 # and no German common nouns ("Schifffahrt", "Anker", ...)
    )


def test_demo_unrelated_golden(comparer):
    ev = _compare(comparer, EXAMPLES / "rewrite_storm.txt", EXAMPLES / "unrelated_budget.txt")
    assert _lists(ev) == _expect(
        people=([], ["Marleen Vos"], ["Camille Berthier"]),
        organisations=([], ["KNMI"], []),
        places=([], [*_STORM_PLACES, "South Holland", "Netherlands"], ["Lyon"]),
        other=([], ["Storm Ingrid", "Dutch", "Port of Rotterdam", "Maasvlakte", "Zeeland"], ["Part-Dieu"]),
    )


def _entities(text: str, lang: str = "en") -> dict[str, tuple[str, str | None]]:
    return {m.text: (m.kind, m.country) for m in extract_entities(text, lang)}


def test_a_name_is_not_glued_to_a_title_or_clause():
    found = _entities("Protesters gathered outside the White House of US President Joe Biden on Friday.")
    assert found == {"White House": ("organisation", None), "United States": ("place", "US"),
                     "Joe Biden": ("person", None)}


def test_hyphenated_compounds_are_their_parts():
    found = _entities("Officials said Russia-NATO relations and the U.S.-led alliance were at a low, "
                      "ahead of the NATO-Russia Council.")
    assert found == {"Russia": ("place", "RU"), "NATO": ("organisation", None), "United States": ("place", "US"),
                     "NATO-Russia Council": ("organisation", None)}


def test_an_acronym_written_out_in_the_text_is_one_organisation():
    text = ("Ministers met at the Organization for Security and Co-operation in Europe (OSCE) in Vienna. "
            "The OSCE said the talks would go on, and the United Nations agreed. A UN envoy came too.")
    found = _entities(text)
    assert found == {"Organization for Security and Co-operation in Europe (OSCE)": ("organisation", None),
                     "Vienna": ("place", "AT"), "United Nations (UN)": ("organisation", None)}


def test_one_canonical_name_per_place_in_any_language():
    en = extract_entities("The U.S. and the United States Navy met US officials in The Hague and Antwerp.", "en")
    assert [m.text for m in en if m.kind == "place"] == ["United States", "The Hague", "Antwerp"]
    de = extract_entities("Züge zwischen Den Haag und Antwerpen fielen aus; Deutschland half.", "de")
    shared, only_a, only_b = entity_lists(extract_entities("Germany, The Hague and Antwerp.", "en"), de)
    assert sorted(shared["places"]) == ["Antwerp", "Germany", "The Hague"]
    assert only_a["places"] == only_b["places"] == []


def test_german_nouns_prepositions_and_number_words_are_not_names():
    text = ("Zwischen Rotterdam und Den Haag fielen Züge aus. Die Versicherer schätzen Schäden von "
            "410 Millionen Euro. Wegen des Sturms Ingrid blieb die Schifffahrt stehen, sagte Hafenmeisterin "
            "Marleen Vos. Das Logistikunternehmen Nordfracht fuhr mit Ziel Duisburg.")
    found = _entities(text, "de")
    assert found == {"Rotterdam": ("place", "NL"), "The Hague": ("place", "NL"), "Sturms Ingrid": ("other", None),
                     "Marleen Vos": ("person", None), "Nordfracht": ("other", None), "Duisburg": ("place", "DE")}
    storm = extract_entities("Storm Ingrid hit the coast.", "en")
    assert [(a.text, b.text) for a, b in pair_up(storm, extract_entities(text, "de"))] == [
        ("Storm Ingrid", "Sturms Ingrid")]


def test_a_lone_surname_is_the_person():
    found = _entities("Deputy Foreign Minister Ivan Petrov spoke in Geneva. Petrov said little. "
                      "Reporters asked Mr. Petrov again.")
    assert found == {"Ivan Petrov": ("person", None), "Geneva": ("place", "CH")}
    shared, only_a, only_b = entity_lists(extract_entities("Petrov left Geneva early.", "en"),
                                          extract_entities("On Tuesday Ivan Petrov left Geneva.", "en"))
    assert shared["places"] == ["Geneva"] and only_a["other"] == [] and only_b["people"] == ["Ivan Petrov"]


@pytest.mark.parametrize("pair", [
    ("NATO said Russia-NATO talks would go on.", "NATO and Russia met in Brussels; the NATO Russia Council too."),
    ("Port of Rotterdam staff met in Rotterdam.", "Rotterdam is a port; the Port of Rotterdam said so."),
])
def test_each_entity_is_shared_or_only_in_one_article(pair):
    a, b = (extract_entities(text, "en") for text in pair)
    shared, only_a, only_b = entity_lists(a, b)
    pairs = pair_up(list(a), list(b))
    assert len({ma.key for ma, _ in pairs}) == len({mb.key for _, mb in pairs}) == len(pairs)
    assert sum(map(len, shared.values())) + sum(map(len, only_a.values())) == len(a)
    assert sum(map(len, shared.values())) + sum(map(len, only_b.values())) == len(b)


def test_extraction_time_grows_linearly_with_the_text():
    def text(n: int, salt: str) -> str:
        names = ["".join(chr(97 + (i // 26 ** k) % 26) for k in range(3)).capitalize() for i in range(n)]
        return " ".join(f"Ivan {name}{salt} met officials of the Rotterdam Port Office in Berlin-Moscow talks. "
                        f"{name}{salt} said the OSCE agreed." for name in names)

    def timed(n: int) -> float:
        best = float("inf")
        for attempt in range(3):
            body = text(n, f"x{attempt}{n}")                 # a new text each time: extraction is cached per text
            start = time.perf_counter()
            extract_entities(body, "en")
            best = min(best, time.perf_counter() - start)
        return best

    extract_entities(text(5, "warm"), "de")                 # word lists loaded before timing
    small, large = timed(200), timed(1600)
    assert large / small < 8 * 2.5, (small, large)
