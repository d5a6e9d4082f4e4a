import pytest
from conftest import EXAMPLES

from samestory.ingest import clean_record, read_record, record_from_bytes, strip_debris
from samestory.types import InputError


def test_example_pair_debris_is_removed_and_reported(shared):
    a = clean_record(read_record(str(shared / "example_pair/000_eddfabeb83873740.txt")))
    b = clean_record(read_record(str(shared / "example_pair/001_06aa01fb994792e3.txt")))
    for art in (a, b):
        for junk in ("Leave a", "[embedded content]", "WordPress.com", "bloggers like this", "zoom edit close"):
            assert junk not in art.full_text
    assert "Leave a Reply" in a.cleaning.removed
    assert "[embedded content]" in b.cleaning.removed
    assert a.title.startswith("Ties with NATO")
    assert "Grushko said Russia would require" in b.text


def test_lines_broken_mid_word_are_rejoined():
    cleaned, _ = strip_debris("The minister arrived in Geneva on Monday and Grushko s\naid. Talks went on for hours.")
    assert "Grushko said." in cleaned


def test_html_goes_through_trafilatura_and_reports_what_it_dropped():
    art = clean_record(read_record(str(EXAMPLES / "wire_storm.html")))
    assert art.title.startswith("Storm Ingrid shuts Port of Rotterdam")
    assert art.date == "2026-02-10T00:00:00+00:00"     # stored in UTC, ISO 8601
    assert "Marleen Vos" in art.text
    for junk in ("cookies", "Leave a Reply", "All rights reserved", "Dutch exports rise"):
        assert junk not in art.full_text
        assert any(junk in line for line in art.cleaning.removed)
    assert art.cleaning.source_format == "html"


def test_json_record_fields_are_used():
    art = clean_record(read_record(str(EXAMPLES / "translation_storm_de.json")))
    assert art.title == "Sturm Ingrid legt Rotterdamer Hafen lahm"
    assert art.url.endswith("sturm-ingrid-rotterdam")
    assert art.date == "2026-02-10T00:00:00+00:00"     # stored in UTC, ISO 8601


def test_mojibake_is_repaired():
    broken = "Ä°stanbul'da yaÅŸayan Ã¶ÄŸrenciler iÃ§in yeni bir program aÃ§Ä±klandÄ±. " * 3
    art = clean_record({"text": broken})
    assert "İstanbul'da yaşayan öğrenciler için" in art.text
    assert art.cleaning.encoding_fixed


def test_debris_filter_keeps_prose():
    text = "Headline here\n\nA real sentence with enough words to be prose in an article body.\nShare this:\nTwitter"
    cleaned, removed = strip_debris(text)
    assert "real sentence" in cleaned and "Twitter" not in cleaned
    assert removed == ["Share this:", "Twitter"]


@pytest.mark.parametrize("data, reason", [
    (b"", "empty input"),
    (b"   \n\t ", "empty input"),
    (b"\x00\x01\x02binary\x00" * 50, "binary file"),
    (b'{"title": "x"}', "no non-empty 'text' or 'html'"),
    (b'{"text": ', "invalid JSON"),
])
def test_bad_bytes_give_clear_errors(data, reason):
    with pytest.raises(InputError, match=reason):
        record_from_bytes(data, "in", ".json" if data.startswith(b"{") else "")


def test_only_debris_is_an_error():
    with pytest.raises(InputError, match="no article text"):
        clean_record({"text": "Leave a Comment\n[embedded content]\nShare this:"})


def test_large_file_is_read_up_to_the_limit(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("Word " * 400_000)  # 2 MB
    record = read_record(str(big), max_bytes=100_000)
    assert len(record["text"]) == 100_000
    assert record["_truncated_bytes"] == 2_000_000 - 100_000
    assert clean_record(record).cleaning.truncated_bytes >= 1_900_000


def test_missing_file():
    with pytest.raises(InputError, match="no such file"):
        read_record("/nonexistent/article.txt")


BOT_CHECK = ("We are sorry, but we recorded a huge number of connections from your IP address.\n\n"
             "If you want to connect with us, tick \"I AM NOT A ROBOT\".\n\nYour IP address: 192.0.2.7")


def test_a_bot_check_page_is_kept_but_flagged_not_an_article():
    article = clean_record({"text": BOT_CHECK})
    assert article.cleaning.not_article == "bot check page"
    assert "IP address" in article.text       # kept: the record is not lost, and a reader sees why


def test_articles_and_headlines_about_captchas_are_articles():
    story = (EXAMPLES / "rewrite_storm.txt").read_text()
    assert clean_record({"text": story + "\n\nThis site is protected by reCAPTCHA."}).cleaning.not_article is None
    assert clean_record({"title": "Google retires the CAPTCHA: no more 'I am not a robot' boxes"}
                        ).cleaning.not_article is None


def test_an_unclosed_quote_and_huge_records_are_errors_with_bounded_memory(tmp_path):
    import gzip
    import json
    import tracemalloc

    from samestory.ingest import iter_records
    from samestory.ingest.read import MAX_BYTES

    csv_path = tmp_path / "feed.csv"
    csv_path.write_text('title,text\nFirst,"a fine row"\nSecond,"the quote never closes\nThird,row\nFourth,row\n')
    items = list(iter_records([str(csv_path)]))
    assert [i.record["title"] for i in items if i.record] == ["First"]
    assert items[-1].line == 2 and "unclosed quote" in items[-1].error

    bomb = tmp_path / "bomb.csv.gz"     # ~60 MB inside one quoted field, a few hundred KB on disk
    with gzip.open(bomb, "wt") as fh:
        fh.write('title,text\nok,"fine"\nbad,"' + ("x" * 99 + "\n") * 600_000)
    tracemalloc.start()
    items = list(iter_records([str(bomb)]))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert items[0].record["title"] == "ok" and "larger than field limit" in items[-1].error
    assert peak < 8 * MAX_BYTES

    jsonl = tmp_path / "feed.jsonl"
    with open(jsonl, "w") as fh:
        fh.write(json.dumps({"text": "before the long one"}) + "\n")
        fh.write(json.dumps({"text": "y " * MAX_BYTES}) + "\n")
        fh.write(json.dumps({"text": "after the long one"}) + "\n")
    items = list(iter_records([str(jsonl)]))
    assert [i.line for i in items] == [1, 2, 3]
    assert items[0].record and items[2].record and "limit" in items[1].error
