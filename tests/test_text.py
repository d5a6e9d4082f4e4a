import pytest

from samestory.text import detect, passages, sentences, tag_language, text_units
from samestory.types import Article

SAMPLES = {
    "en": "The government announced new measures on Tuesday to support farmers hit by the drought.",
    "de": "Die Regierung hat am Dienstag neue Maßnahmen angekündigt, um die von der Dürre betroffenen Landwirte zu unterstützen.",
    "es": "El gobierno anunció el martes nuevas medidas para apoyar a los agricultores afectados por la sequía.",
    "fr": "Le gouvernement a annoncé mardi de nouvelles mesures pour soutenir les agriculteurs touchés par la sécheresse.",
    "it": "Il governo ha annunciato martedì nuove misure per sostenere gli agricoltori colpiti dalla siccità.",
    "pl": "Rząd ogłosił we wtorek nowe środki wsparcia dla rolników dotkniętych suszą.",
    "tr": "Hükümet salı günü kuraklıktan etkilenen çiftçileri desteklemek için yeni önlemler açıkladı.",
    "ru": "Правительство во вторник объявило о новых мерах поддержки фермеров, пострадавших от засухи.",
    "ar": "أعلنت الحكومة يوم الثلاثاء عن إجراءات جديدة لدعم المزارعين المتضررين من الجفاف.",
    "zh": "政府周二宣布了支持受干旱影响农民的新措施。",
}


@pytest.mark.parametrize("lang", sorted(SAMPLES))
def test_language_identification_covers_the_task_languages(lang):
    assert detect(SAMPLES[lang])[0] == lang


def test_gibberish_and_tiny_text_are_unknown():
    assert detect("12 34 !!")[0] == "und"
    art = tag_language(Article(text="xq zzv qpt"))
    assert art.lang == "und"


def test_stated_language_is_trusted():
    art = tag_language(Article(text=SAMPLES["de"], lang="de", lang_confidence=1.0))
    assert art.lang == "de"


def test_sentences_multilingual():
    assert len(sentences("Er kam. Sie ging! Wer blieb? Niemand.")) == 4
    assert len(sentences("政府周二宣布。农民表示欢迎！这是第三次。")) == 3


def test_long_article_is_read_to_its_end():
    body = " ".join(f"Paragraph {i} tells part {i} of the story about the harbour." for i in range(400))
    units = text_units(Article(text=body, title="Long story"))
    assert units.head.startswith("Long story")
    assert units.tail is not None and "399" in units.tail and units.tail in " ".join(units.passages)
    assert len(units.passages) == 24
    # the sample reaches the last third of the article, not only its opening
    assert any(int(p.split()[1]) > 300 for p in units.passages[-4:])


def test_passages_respect_budget():
    text = " ".join(["A sentence of moderate length that repeats itself."] * 40)
    assert all(len(p) <= 400 for p in passages(text))


def test_headline_is_the_title_or_else_the_first_sentence():
    titled = Article(title="Harbour strike ends", text="Dock workers returned on Monday. Talks had lasted a week.")
    assert text_units(titled).headline == "Harbour strike ends"
    # a plain text whose headline runs into its lead: the first sentence stands for both
    plain = Article(text="Harbour strike ends after a week of talks. Dock workers returned on Monday.")
    assert text_units(plain).headline == "Harbour strike ends after a week of talks."
    # a scrape that lost its full stops is cut, so the headline's vector stays the headline's
    run_on = Article(text=" ".join(["word"] * 400))
    assert 0 < len(text_units(run_on).headline) <= 200
