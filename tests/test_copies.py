"""Copy groups: which stored article a new one copies (real signatures, fingerprints and LSH; no model),
and a translation that joined the wrong group moving to its own source (the real model, through a Corpus)."""
import numpy as np
from conftest import add_one_at_a_time, copy_groups

from samestory.corpus import Corpus
from samestory.corpus.copies import CopyFinder, CopyGroups, CopySettings
from samestory.index.minhash import DuplicateIndex, signatures
from samestory.stories.link import fingerprint
from samestory.types import Article

TEMPLATE = ("Does {co} ({tk}) Have A Particularly Volatile Share Price? If you own shares in {co} ({tk}) then it "
            "is worth thinking about how it contributes to the volatility of your portfolio, overall. In finance, "
            "Beta is a measure of volatility. Modern finance theory considers volatility to be a measure of risk, "
            "and there are two main types of price volatility. The first is company specific volatility, which "
            "is the price gyrations of an individual stock. Holding at least 25 stocks can reduce this kind of "
            "risk. The other type, which cannot be diversified away, is the volatility of the entire market. "
            "{boss}, who has led {co} since {year}, told analysts at {bank} and {bank2} that the {city} plant "
            "and the {city2} warehouse would keep the company's costs in line with {rival}.")
TEMPLATE_DE = ("Hat {co} ({tk}) einen besonders volatilen Aktienkurs? Wenn Sie Aktien von {co} ({tk}) besitzen, lohnt es "
               "sich, darüber nachzudenken, wie sie insgesamt zur Volatilität Ihres Portfolios beitragen. In der "
               "Finanzwelt ist Beta ein Maß für die Volatilität. Die moderne Finanztheorie betrachtet Volatilität als "
               "ein Maß für das Risiko, und es gibt zwei Hauptarten der Kursvolatilität. Die erste ist die "
               "unternehmensspezifische Volatilität, also die Kursschwankungen einer einzelnen Aktie. Wer mindestens "
               "25 Aktien hält, kann diese Art von Risiko verringern. Die andere Art, die sich nicht "
               "wegdiversifizieren lässt, ist die Volatilität des gesamten Marktes. {boss}, der {co} seit {year} "
               "führt, sagte Analysten von {bank} und {bank2}, das Werk in {city} und das Lager in {city2} würden "
               "die Kosten des Unternehmens im Einklang mit {rival} halten.")
GREAT_ATLANTIC = {"co": "Great Atlantic Resources Corp.", "tk": "CVE:GR", "boss": "Maria Olsen", "year": 2011,
                  "bank": "Barclays", "bank2": "Nomura", "city": "Halifax", "city2": "Moncton", "rival": "Teck Resources"}
HURCO = {"co": "Hurco Companies Inc.", "tk": "NASDAQ:HURC", "boss": "Gregory Volovic", "year": 2001,
         "bank": "Goldman Sachs", "bank2": "Jefferies", "city": "Indianapolis", "city2": "Taichung",
         "rival": "Haas Automation"}


def _finder(texts: list[str], settings: CopySettings = CopySettings()) -> tuple[CopyFinder, list[Article]]:
    """The first texts stored (rowids 1..n-1), the last one new (rowid n)."""
    arts = [Article(text=t, lang="en") for t in texts]
    sigs = signatures([a.full_text for a in arts])
    prints = {i + 1: fingerprint(a.full_text, "en", s, float(i), True, np.zeros(0))
              for i, (a, s) in enumerate(zip(arts, sigs))}
    dups = DuplicateIndex(settings.duplicate_jaccard)
    for key in range(1, len(arts)):
        dups.add(key, sigs[key - 1])
    groups = CopyGroups({}, {}, lambda key: "en")
    finder = CopyFinder(groups, dups, prints.__getitem__, {i + 1: a.full_text for i, a in enumerate(arts)},
                        lambda keys: {}, {}, {}, None, settings)     # one language: nothing to encode
    return finder, arts


def _copy_of(texts: list[str]) -> int | None:
    finder, arts = _finder(texts)
    n = len(arts)
    sig = signatures([arts[-1].full_text])[0]
    return finder.find(n, arts[-1], sig, np.zeros((0, len(sig)), sig.dtype), n)[0]


def test_a_template_filled_in_for_another_company_is_not_a_copy_but_an_edited_copy_is():
    first, other = TEMPLATE.format(**GREAT_ATLANTIC), TEMPLATE.format(**HURCO)
    assert _copy_of([first, other]) is None
    words = first.split(" ")
    edited = " ".join(w for i, w in enumerate(words) if i % 10 != 9)     # every tenth word dropped
    assert _copy_of([first, edited]) == 1
    # without the names test the template passes as a copy: the rule is what tells them apart
    finder, arts = _finder([first, other], CopySettings(template_names=10_000))
    sig = signatures([arts[-1].full_text])[0]
    assert finder.find(2, arts[-1], sig, np.zeros((0, len(sig)), sig.dtype), 2)[0] == 1


def test_a_translation_that_came_before_its_source_moves_to_it(tmp_path):
    """The German translation of one fill of a template arrives when only the other fill is
    stored, and aligns with it well enough to join it (0.90). When its own source comes, it
    aligns with that clearly better (0.95) and moves: the group is the source and its
    translation, in the store and in memory alike, and a reopened index agrees."""
    records = [
        {"id": "hurco", "text": TEMPLATE.format(**HURCO), "date": "2026-02-10T07:00:00Z"},
        {"id": "great-atlantic-de", "text": TEMPLATE_DE.format(**GREAT_ATLANTIC), "date": "2026-02-10T08:00:00Z"},
        {"id": "great-atlantic", "text": TEMPLATE.format(**GREAT_ATLANTIC), "date": "2026-02-10T09:00:00Z"},
    ]
    db = tmp_path / "x.db"
    corpus = Corpus(db, progress=False)

    add_one_at_a_time(corpus, records[:2], tmp_path)
    assert copy_groups(corpus) == [{"hurco", "great-atlantic-de"}]       # the only English text it could translate
    add_one_at_a_time(corpus, records[2:], tmp_path)
    assert copy_groups(corpus) == [{"great-atlantic-de", "great-atlantic"}]
    state = corpus.state()
    assert list(state.dup_langs.values()) == [{"en"}]      # the members' languages: the German is the root
    reopened = Corpus(db, progress=False)
    assert copy_groups(reopened) == copy_groups(corpus)
    assert reopened.state().dup_root == state.dup_root and reopened.state().dup_members == state.dup_members
