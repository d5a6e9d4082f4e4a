"""Hostile input (issue 27): no record poisons the index.

Cleaning time grows linearly with the input, whatever its shape; a byte-order mark is
not part of the first field; a record over the size limit is one error and reading
goes on; a folder does not pull in files through links that leave it.
"""
import codecs
import json
import time
import tracemalloc

import pytest

from samestory.ingest import clean_record, iter_records, record_from_bytes
from samestory.ingest.read import MAX_BYTES
from samestory.types import InputError

BOM = codecs.BOM_UTF8


def _best(fn, tries=3):
    best = float("inf")
    for _ in range(tries):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _clean(record):
    try:
        clean_record(record)
    except InputError:
        pass


@pytest.mark.parametrize("unit", ["x\n", "the quick brown fox\n", "a.\n", "Word\n", "word "])
def test_cleaning_time_is_linear_in_the_length(unit):
    """Ten times the text takes about ten times as long (quadratic: a hundred)."""
    small, large = unit * (20_000 // len(unit)), unit * (200_000 // len(unit))
    _clean({"text": small})                     # warm up
    ratio = _best(lambda: _clean({"text": large})) / _best(lambda: _clean({"text": small}))
    assert ratio < 20, f"{unit!r}: 10x the text took {ratio:.0f}x as long"


@pytest.mark.parametrize("build", [
    lambda n: "Cookie site " + "a" * n,                 # a notice's subject, then one long word
    lambda n: "Cookie site " + "polityk" * (n // 7),    # a subject's start, again and again, in one word
    lambda n: "Cookie site " + "уведомлени" * (n // 10),
])
def test_notice_search_is_linear_in_a_long_word(build):
    """A 40,000-letter word after "cookie site" took a minute (a pattern retried from each letter)."""
    small, large = build(5_000), build(50_000)
    _clean({"text": small})
    ratio = _best(lambda: _clean({"text": large})) / _best(lambda: _clean({"text": small}))
    assert ratio < 20


def test_many_short_continuation_lines_are_still_rejoined():
    article = clean_record({"text": "The port closed.\n" + "x\n" * 50_000})
    assert article.text.startswith("The port closed.\nxxx xxx xxx")     # rejoined as before, in linear time


def _page(attributes):
    tag = "<p " + " ".join(f'a{i}="v"' for i in range(attributes)) + ">"
    return f"<html><body>{tag}Some article text here that is long enough to be an article.</p></body></html>"


def test_a_tag_with_absurdly_many_attributes_is_cheap():
    """32,000 attributes on one tag took 20 s (libxml2 checks each against all the others)."""
    _clean({"html": _page(10)})                 # warm up (imports)
    normal = _best(lambda: _clean({"html": _page(3_200)}), tries=2)
    absurd = _best(lambda: _clean({"html": _page(32_000)}), tries=2)
    assert absurd / normal < 20
    assert "Some article text here" in clean_record({"html": _page(32_000)}).text


def _records(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return list(iter_records([str(path)]))


@pytest.mark.parametrize(("name", "data"), [
    ("feed.csv", b"text,title\nThe storm closed the port on Monday.,Storm\n"),
    ("feed.csv", b"text\nThe storm closed the port on Monday.\n"),
    ("feed.tsv", b"text\ttitle\nThe storm closed the port on Monday.\tStorm\n"),
    ("feed.jsonl", b'{"text": "The storm closed the port on Monday."}\n{"text": "Second line."}\n'),
])
def test_a_byte_order_mark_is_not_part_of_the_first_field(tmp_path, name, data):
    items = _records(tmp_path, name, BOM + data)
    assert items[0].error is None
    assert items[0].record["text"] == "The storm closed the port on Monday."


def test_a_single_file_with_a_byte_order_mark_reads(tmp_path):
    text = record_from_bytes(BOM + "Die Fähre sank vor Tromsø.".encode(), "a.txt", ".txt")["text"]
    assert text == "Die Fähre sank vor Tromsø."
    record = record_from_bytes(BOM + json.dumps({"text": "The ferry sank."}).encode(), "a.json", ".json")
    assert record["text"] == "The ferry sank."
    with pytest.raises(InputError, match="empty"):
        record_from_bytes(BOM, "bom-only.txt", ".txt")


@pytest.mark.parametrize("huge", [
    "x" * (MAX_BYTES + 100_000),                              # one unquoted line over the limit
    '"' + ("a line, of a quoted field\n" * (MAX_BYTES // 25 + 4_000)) + '"',   # one quoted field of many lines
    '"' + ('say ""hi""\n' * (MAX_BYTES // 9 + 10_000)) + 'end"',              # "" escapes do not end it
])
def test_a_record_over_the_limit_is_one_error_and_reading_goes_on(tmp_path, huge):
    path = tmp_path / "feed.csv"
    path.write_text(f'title,text\nFirst,"a fine row"\nSecond,{huge}\nThird,"after, the long one"\n')
    tracemalloc.start()
    items = list(iter_records([str(path)]))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [i.line for i in items] == [1, 2, 3]
    assert items[0].record["text"] == "a fine row"
    assert items[1].record is None and "limit" in items[1].error
    assert items[2].record == {"title": "Third", "text": "after, the long one"}
    assert peak < 8 * MAX_BYTES


def test_a_malformed_row_is_one_error_and_reading_goes_on(tmp_path):
    items = _records(tmp_path, "feed.csv",
                     b'title,text\nFirst,fine\nSecond,"bad"x,"opens\nand closes"\n\nThird,fine\n')
    assert [i.line for i in items] == [1, 2, 3]
    assert "unreadable CSV row" in items[1].error
    assert items[2].record == {"title": "Third", "text": "fine"}


@pytest.fixture()
def linked(tmp_path):
    outside = tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    (outside / "secret.txt").write_text("The secret text that must not be indexed.")
    (outside / "sub" / "more.txt").write_text("More outside text that must not be indexed.")
    folder = tmp_path / "folder"
    (folder / "inner").mkdir(parents=True)
    (folder / "a.txt").write_text("An article inside the folder, about a ferry.")
    (folder / "inner" / "b.txt").write_text("Another article inside the folder.")
    (folder / "link.txt").symlink_to(outside / "secret.txt")
    (folder / "linkdir").symlink_to(outside / "sub", target_is_directory=True)
    (folder / "inner" / "up").symlink_to(folder, target_is_directory=True)      # a cycle, inside
    (folder / "same.txt").symlink_to(folder / "a.txt")                           # inside: read
    (folder / "loop.txt").symlink_to(folder / "loop.txt")
    return folder


def test_a_folder_does_not_follow_links_out_of_it(linked):
    items = {i.source.removeprefix(str(linked) + "/"): i for i in iter_records([str(linked)])}
    assert sorted(items) == ["a.txt", "inner/b.txt", "link.txt", "linkdir", "loop.txt", "same.txt"]
    for name in ("link.txt", "linkdir"):
        assert items[name].record is None
        assert items[name].error == ("symbolic link to a file outside the folder (use --follow-symlinks to read it)")
    assert items["a.txt"].record and items["inner/b.txt"].record and items["same.txt"].record
    assert items["loop.txt"].error


def test_follow_symlinks_reads_links_out_of_the_folder(linked):
    items = {i.source.removeprefix(str(linked) + "/"): i for i in iter_records([str(linked)], follow_symlinks=True)}
    assert items["link.txt"].record["text"].startswith("The secret text")
    assert items["linkdir/more.txt"].record["text"].startswith("More outside text")
    assert "linkdir" not in items
