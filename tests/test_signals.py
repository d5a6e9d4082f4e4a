import numpy as np

from samestory.signals.alignment import best_pairs
from samestory.signals.entities import extract_mentions, match
from samestory.signals.lexical import copied_share
from samestory.signals.quantities import extract_dates, extract_numbers


def test_people_places_and_organisations():
    text = ("Deputy Foreign Minister Ivan Petrov spoke in Brussels before the NATO meeting. "
            "Ministry of Defence officials in Moscow said talks would continue.")
    kinds = {m.text: (m.kind, m.country) for m in extract_mentions(text)}
    assert kinds["Ivan Petrov"][0] == "person"
    assert kinds["Brussels"] == ("place", "BE")
    assert kinds["Moscow"] == ("place", "RU")
    assert kinds["NATO"][0] == "organisation"


def test_regions_and_named_storms_are_not_people():
    text = ("Storm Ingrid flooded roads in South Holland on Tuesday, and Northern Ireland braced for it. "
            "The dike engineer Marleen Vos said they held.")
    kinds = {m.text: m.kind for m in extract_mentions(text)}
    assert kinds["South Holland"] == "place" and kinds["Northern Ireland"] == "place"
    assert kinds["Storm Ingrid"] == "other"
    assert kinds["Marleen Vos"] == "person"


def test_entities_match_across_scripts():
    en = extract_mentions("Deputy Foreign Minister Ivan Petrov said the talks had failed.")
    ru = extract_mentions("Заместитель министра Иван Петров заявил, что переговоры провалились.")
    pairs = match(en, ru)
    assert any(a.text == "Ivan Petrov" for a, _ in pairs)


def test_places_in_uncased_scripts():
    zh = {m.country for m in extract_mentions("莫斯科周二表示，布鲁塞尔的会谈很重要。")}
    assert {"RU", "BE"} <= zh


def test_dates_normalise_across_languages():
    assert "01-11" in extract_dates("on January 11, 2022")
    assert "01-11" in extract_dates("am 11. Januar 2022")
    assert "01-11" in extract_dates("el 11 de enero de 2022")
    assert "01-11" in extract_dates("2022年1月11日")
    assert "2022-01-11" in extract_dates("12.01.2022 und 11.01.2022")
    assert "weekday:1" in extract_dates("said on Tuesday")
    assert "weekday:1" in extract_dates("заявил во вторник")


def test_numbers_in_either_convention():
    assert set(extract_numbers("100,000 soldiers and 3.5 percent")) == {"100000", "3.5"}
    assert set(extract_numbers("100.000 Soldaten und 3,5 Prozent")) == {"100000", "3.5"}
    assert extract_numbers("in 2022 on day 5") == []


def test_copied_share_is_directional():
    a = "one two three four five six seven eight nine ten"
    b = a + " eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty"
    ab, ba = copied_share(a, b)
    assert ab == 1.0 and 0.3 < ba < 0.5


def test_best_pairs_are_one_to_one():
    sim = np.array([[0.95, 0.90], [0.92, 0.85], [0.1, 0.2]])
    pairs = best_pairs(sim, k=5, min_similarity=0.8)
    assert [(i, j) for i, j, _ in pairs] == [(0, 0), (1, 1)]


def test_the_headline_has_its_own_vector_encoded_once(comparer):
    from samestory.types import Article

    titled = Article(title="Harbour strike ends after a week",
                     text="Dock workers returned to the harbour on Monday. The union said talks had lasted a week.")
    short = Article(text="Harbour strike ends after a week.")        # its headline is its only passage
    a, b = comparer.analyse([titled, short])
    own = comparer.encoder.encode(["Harbour strike ends after a week"])[0]
    assert a.vectors.headline is not None and float(a.vectors.headline @ own) > 0.999
    assert not np.allclose(a.vectors.headline, a.vectors.head)
    assert b.vectors.headline is not None and np.array_equal(b.vectors.headline, b.vectors.passages[0])
