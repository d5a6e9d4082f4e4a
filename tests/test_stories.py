"""The story linker and the story evaluation (real shipped model, small inputs)."""
import json
import subprocess
import sys

import numpy as np
import pytest

from samestory.stories.link import FEATURES, StoryLinker, candidate_features, fingerprint, keywords, number_keys


def _fp(text, lang="en", ts=0.0, dated=True):
    return fingerprint(text, lang, np.zeros(64, np.uint32), ts, dated, np.array([0.8]))


def test_features_weigh_rare_words_and_ignore_undated_time():
    kw = keywords("The minister said the Nordlys ferry ran aground near Tromsø", "en")
    assert len(kw) <= 64 and all(w > 0 for w in kw.values())
    common, rare = keywords("said the", "en"), keywords("Tromsø", "en")
    assert sum(rare.values()) > sum(common.values())
    assert number_keys("1,500 people") == number_keys("1.500 Menschen") == number_keys("1500人")
    a, b = _fp("Ferry Nordlys aground", ts=0.0, dated=False), _fp("Nordlys ferry grounding", ts=86400.0, dated=False)
    X = candidate_features(a, [b], [0.9])
    assert X.shape == (1, len(FEATURES))
    row = dict(zip(FEATURES, X[0]))
    assert row["days_apart"] == 0.0 and row["undated"] == 1.0
    dated = dict(zip(FEATURES, candidate_features(_fp("x", ts=0.0), [_fp("y", ts=86400.0)], [0.9])[0]))
    assert dated["days_apart"] == pytest.approx(1.0) and dated["undated"] == 0.0


def test_shipped_linker_prefers_the_same_story():
    linker = StoryLinker.load()
    new = _fp("Ferry Nordlys runs aground off Tromsø with 212 passengers on board", ts=3600.0)
    same = _fp("Nordlys ferry grounding near Tromsø: all 212 passengers taken ashore", ts=0.0)
    other = _fp("Valdoria parliament passes 2027 budget after all-night session", ts=0.0)
    p_same, p_other = linker.predict_proba(candidate_features(new, [same, other], [0.90, 0.80]))
    assert p_same > 0.5 > p_other
    with pytest.raises(RuntimeError, match="not fitted"):
        StoryLinker().predict_proba(np.zeros((1, len(FEATURES))))


def test_eval_stories_reads_the_language_column(tmp_path):
    path = tmp_path / "stories.csv"
    rows = [("1", "en", "s1", "Ferry Nordlys runs aground off Tromsø with 212 passengers on board."),
            ("2", "de", "s1", "Fähre Nordlys läuft vor Tromsø mit 212 Passagieren an Bord auf Grund."),
            ("3", "en", "s2", "Valdoria parliament passes the 2027 budget by 61 votes to 54.")]
    path.write_text("id,lang,story,text\n" + "\n".join(",".join(f'"{x}"' for x in r) for r in rows) + "\n")
    proc = subprocess.run([sys.executable, "-m", "samestory.cli", "eval", "stories", str(path), "--text-col", "text",
                           "--label-col", "story", "--lang-col", "lang", "--format", "json"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["articles"] == 3 and {"pairwise_f1", "bcubed_f1", "ari"} <= set(result)
    assert result["stories_found"] >= 2
