"""A "sentence" longer than a passage (a scrape that lost its full stops) is split, never cut short,
with ``UnitSettings.split_long_sentences`` (off by default until the pair scorer is retrained on split
passages); by default it is cut, and the evidence says what was not embedded."""
import re

import pytest

from samestory.text import passages, text_units, weight
from samestory.text.units import UnitSettings, split_long
from samestory.types import Article

LIMIT = UnitSettings().passage_weight
SPLIT = UnitSettings(split_long_sentences=True)
CLAUSES = [
    "the minister said on Tuesday that talks with the alliance would go on",
    "adding that Moscow would wait for the outcome of other meetings this week",
    "before deciding whether it was worth continuing the negotiations at all",
    "while officials in Brussels and Washington warned of severe sanctions",
]


def _run_without_full_stops(chars: int) -> str:
    text, i = "", 0
    while len(text) < chars:
        text += (", " if i % 3 else " and ") * bool(text) + CLAUSES[i % len(CLAUSES)] + f" number{i}"
        i += 1
    return text


def test_a_1200_character_sentence_is_split_into_pieces_under_the_limit_holding_every_word():
    sentence = _run_without_full_stops(1200)
    assert len(sentence) >= 1200 and "." not in sentence
    pieces = split_long(sentence, LIMIT)
    assert len(pieces) >= 3
    assert all(weight(p) <= LIMIT for p in pieces)
    assert " ".join(pieces).split() == sentence.split()
    # each piece ends at a clause boundary (a comma) or before a conjunction, not just anywhere
    following = [nxt.split()[0] for nxt in pieces[1:]]
    assert all(p.endswith(",") or w == "and" for p, w in zip(pieces, following))
    # the passages built from it read every word too
    assert " ".join(passages(sentence, SPLIT)).split() == sentence.split()


def test_without_clause_breaks_the_split_falls_on_word_boundaries():
    sentence = " ".join(f"word{i}" for i in range(300))
    pieces = split_long(sentence, LIMIT)
    assert all(weight(p) <= LIMIT for p in pieces)
    assert " ".join(pieces).split() == sentence.split()       # so no word was cut in two


def test_cjk_run_is_split_between_characters_within_the_weight_limit():
    run = "政府周二宣布农民表示欢迎，这是第三次" * 30
    pieces = split_long(run, LIMIT)
    assert "".join(pieces) == run and all(weight(p) <= LIMIT for p in pieces)


def test_a_passage_is_never_cut_inside_a_word():
    text = "Short opening sentence. " + _run_without_full_stops(2000) + ". A closing sentence."
    units = text_units(Article(text=text, title="Talks"), SPLIT)
    words = set(("Talks " + text).split())
    assert all(set(p.split()) <= words for p in units.passages)
    assert " ".join(units.passages).split() == ("Talks " + text).split()
    assert units.not_read is None


@pytest.fixture(scope="module")
def example_pair(shared):
    from samestory.ingest import clean_record, read_record

    return [clean_record(read_record(str(p))) for p in sorted((shared / "example_pair").glob("*.txt"))]


def test_example_pair_passages_do_not_end_mid_clause(example_pair):
    for article in example_pair:
        units = text_units(article, SPLIT)
        assert " ".join(units.passages).split() == article.full_text.split()
        assert not any(p.endswith("saying") for p in units.passages)
        assert all(re.search(r"[.!?,;:\"”’)»]$|\w$", p) for p in units.passages)
    last = text_units(example_pair[0], SPLIT).passages[-1]
    assert last.endswith("as new members")         # the end of the run of clauses is read


def test_example_pair_evidence_says_what_the_cut_sentences_left_out(comparer, example_pair):
    """By default (the shipped scorer's passages) a run without full stops is cut at a passage's
    weight: the evidence says so, with about how much was not embedded."""
    ev = comparer.compare(*example_pair).evidence
    assert ev.aligned_passages
    cut = [f for f in ev.flags if "sentences without full stops" in f]
    assert cut and all("characters" in f and "not embedded" in f for f in cut)


def test_evidence_says_what_the_encoder_left_out_of_a_long_article():
    from samestory.embed import load_encoder
    from samestory.scoring import build_evidence
    from samestory.signals import analyse
    from samestory.signals.alignment import similarity

    long = Article(text=" ".join(f"Paragraph {i} tells part {i} of the story about the harbour." for i in range(400)))
    short = Article(text="The harbour reopened on Monday after the storm.")
    a, b = analyse([long, short], load_encoder("hashing"))
    assert a.units.skipped_passages > 0 and b.units.not_read is None
    ev = build_evidence(a, b, similarity(a.vectors.passages, b.vectors.passages))
    note = [f for f in ev.flags if f.startswith("a: long article")]
    assert len(note) == 1 and f"{a.units.skipped_passages} passages" in note[0]
    assert not any(f.startswith("b: long article") for f in ev.flags)


def test_splitting_takes_time_in_proportion_to_length():
    import time

    def timed(chars: int) -> float:
        run = _run_without_full_stops(chars)
        best = float("inf")
        for _ in range(3):          # the best of three, against a busy machine's noise
            start = time.perf_counter()
            pieces = split_long(run, LIMIT)
            best = min(best, time.perf_counter() - start)
        assert " ".join(pieces).split() == run.split()
        return best

    small, large = timed(20_000), timed(200_000)
    assert large < 30 * small        # ten times the text; quadratic work would take about a hundred times
