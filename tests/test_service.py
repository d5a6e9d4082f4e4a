"""The real service on a free loopback port: every endpoint, the limits, the codes."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from conftest import EXAMPLES, ROOT, served

TOKEN = "test-token-123"
SERVED: dict[str, Path] = {}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    db = tmp_path_factory.mktemp("svc") / "news.db"
    SERVED["db"] = db
    with served(db, "--max-body-bytes", "300000", env={**os.environ, "SAMESTORY_TOKEN": TOKEN}) as base:
        yield base


def _article(name: str) -> dict:
    path = EXAMPLES / name
    if path.suffix == ".json":
        return json.loads(path.read_text())
    return {"html": path.read_text()} if path.suffix == ".html" else {"text": path.read_text()}


def test_healthz_and_openapi(service):
    assert httpx.get(f"{service}/healthz").json()["status"] == "ok"
    spec = httpx.get(f"{service}/openapi.json").json()
    assert {"/compare", "/articles", "/stories", "/stories/{story_id}",
            "/articles/{article_id}/similar", "/healthz"} <= set(spec["paths"])
    assert httpx.get(f"{service}/docs").status_code == 200


def test_compare_matches_the_cli_json(service):
    body = {"a": _article("wire_storm.html"), "b": _article("rewrite_storm.txt")}
    r = httpx.post(f"{service}/compare", json=body, timeout=120)
    assert r.status_code == 200
    out = r.json()
    cli = subprocess.run([sys.executable, "-m", "samestory.cli", "compare", str(EXAMPLES / "wire_storm.html"),
                          str(EXAMPLES / "rewrite_storm.txt"), "--format", "json"], capture_output=True, text=True, timeout=300)
    assert out == json.loads(cli.stdout)
    assert out["same_story"] and out["evidence"]["aligned_passages"]


def test_writes_need_the_token(service):
    body = _article("unrelated_budget.txt")
    assert httpx.post(f"{service}/articles", json=body).status_code == 401
    assert httpx.post(f"{service}/articles", json=body, headers={"Authorization": "Bearer nope"}).status_code == 401


def test_articles_stories_similar(service):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    batch = [dict(_article("wire_storm.html"), date="2026-02-10T07:45:00Z"),
             dict(_article("translation_storm_de.json"), date="2026-02-10T10:00:00Z"),
             {"text": _article("rewrite_storm.txt")["text"], "date": "2026-02-10T11:00:00Z"},
             {"text": _article("unrelated_budget.txt")["text"], "date": "2026-02-12T09:00:00Z"},
             {"text": "   "}]
    r = httpx.post(f"{service}/articles", json=batch[:4], headers=auth, timeout=120)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["added"] * 4
    assert results[0]["story"] == results[1]["story"] == results[2]["story"] != results[3]["story"]
    again = httpx.post(f"{service}/articles", json=batch[0], headers={"X-Token": TOKEN}, timeout=60).json()
    assert again["already_stored"] == 1 and again["results"][0]["article"] == results[0]["article"]

    stories = httpx.get(f"{service}/stories").json()["stories"]
    assert {s["id"] for s in stories} == {results[0]["story"], results[3]["story"]}
    story = httpx.get(f"{service}/stories/{results[0]['story']}").json()
    assert story["size"] == 3 and sorted(story["languages"]) == ["de", "en"]
    assert len(story["members"]) == 3

    sim = httpx.get(f"{service}/articles/{results[2]['article']}/similar", params={"k": 2}).json()["results"]
    assert {s["id"] for s in sim} == {results[0]["article"], results[1]["article"]}
    rescored = httpx.get(f"{service}/articles/{results[2]['article']}/similar", params={"k": 1, "rescore": True},
                         timeout=120).json()["results"]
    assert rescored[0]["same_story"] is True and rescored[0]["overall"] < 2.5
    page = httpx.get(f"{service}/ui/stories")
    assert page.status_code == 200 and "<svg" in page.text and "Storm Ingrid" in page.text
    assert httpx.get(f"{service}/ui/stories/{results[0]['story']}").status_code == 200


def test_single_articles_and_a_cli_writer_beside_the_service(service, tmp_path):
    """One new article at a time into the non-empty index, then a CLI ``index add`` on
    the database the service is serving: the service notices before its next write."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    db = SERVED["db"]
    before = httpx.get(f"{service}/healthz").json()["articles"]
    follow_up = {"text": "Storm Ingrid: Rotterdam port reopens after two days. The Port of Rotterdam reopened "
                         "on Thursday after storm Ingrid closed it for two days; ships queued at the entrance.",
                 "date": "2026-02-11T08:00:00Z"}
    one = httpx.post(f"{service}/articles", json=follow_up, headers=auth, timeout=120)
    assert one.status_code == 200, one.text
    assert one.json()["results"][0]["status"] == "added"
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps({"text": "Valdoria parliament passes 2027 budget after all-night session. "
                                        "Lawmakers approved it by 61 votes to 54.", "date": "2026-02-12T10:00:00Z"})
                    + "\n")
    report = tmp_path / "report.jsonl"
    cli = subprocess.run([sys.executable, "-m", "samestory.cli", "index", "add", str(feed), "--db", str(db),
                          "--report", str(report)], capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0, cli.stderr
    cli_outcome = json.loads(report.read_text())
    cli_article = cli_outcome["article"]
    other = {"text": "Valdoria budget vote: the fuel subsidy cut survives a late amendment, and the 2027 "
                     "budget passes by 61 votes to 54.", "date": "2026-02-12T11:00:00Z"}
    two = httpx.post(f"{service}/articles", json=other, headers=auth, timeout=120)
    assert two.status_code == 200, two.text
    assert two.json()["results"][0]["status"] == "added"
    # one outcome shape: the service's result is the CLI's --report line, plus its place in the list
    assert two.json()["results"][0].keys() - {"index"} == cli_outcome.keys()
    assert {k: two.json()["results"][0][k] for k in ("index", "source", "line")} == {"index": 0, "source": "http",
                                                                                      "line": 1}
    assert httpx.get(f"{service}/healthz").json()["articles"] == before + 3
    import sqlite3

    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*), COUNT(DISTINCT rowid) FROM articles").fetchone() == (before + 3,) * 2
    sim = httpx.get(f"{service}/articles/{two.json()['results'][0]['article']}/similar", params={"k": 1}).json()
    assert sim["results"][0]["id"] == cli_article


@pytest.mark.parametrize("method, path, body, code, needle", [
    ("get", "/stories/987654", None, 404, "no story"),
    ("get", "/articles/0000000000000000/similar", None, 404, "no article"),
    ("get", "/ui/stories/987654", None, 404, "no story"),
    ("post", "/compare", {"a": {"text": "x"}}, 422, '["body","b"]'),
    ("post", "/compare", {"a": {"title": ""}, "b": {"text": "some text"}}, 422, "non-empty 'text' or 'html'"),
    ("get", "/stories?since=not-a-date", None, 422, "since"),
    ("get", "/articles/x/similar?k=0", None, 422, '["query","k"]'),
])
def test_error_codes_name_the_problem(service, method, path, body, code, needle):
    r = getattr(httpx, method)(f"{service}{path}", **({"json": body} if body is not None else {}))
    assert r.status_code == code
    assert needle in r.text


def test_malformed_json_and_size_limit(service):
    r = httpx.post(f"{service}/compare", content=b'{"a": ', headers={"content-type": "application/json"})
    assert r.status_code == 422
    big = {"a": {"text": "word " * 100_000}, "b": {"text": "x"}}
    assert httpx.post(f"{service}/compare", json=big).status_code == 413


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                    reason="Debian's chromium and chromium-driver are not installed (make setup-browser installs them)")
def test_compare_page_in_headless_chromium(service, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,1600"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.get(service + "/")
        driver.find_element(By.ID, "a").send_keys(_article("rewrite_storm.txt")["text"])
        driver.execute_script("document.getElementById('b').value = arguments[0];",
                              _article("wire_storm.html")["html"])
        driver.find_element(By.ID, "go").click()
        WebDriverWait(driver, 120).until(EC.presence_of_element_located((By.ID, "verdict")))
        assert "Same story" in driver.find_element(By.ID, "verdict").text
        scores = driver.find_elements(By.CSS_SELECTOR, "#scores .dim")
        assert len(scores) == 7
        assert all(1.0 <= float(s.find_element(By.CLASS_NAME, "score").text) <= 4.0 for s in scores)
        marks_a = driver.find_elements(By.CSS_SELECTOR, "#passages-a mark.aligned")
        marks_b = driver.find_elements(By.CSS_SELECTOR, "#passages-b mark.aligned")
        assert marks_a and marks_b
        assert {m.get_attribute("data-pair") for m in marks_a} == {m.get_attribute("data-pair") for m in marks_b}
        artifacts = ROOT / "artifacts"
        artifacts.mkdir(exist_ok=True)
        driver.save_screenshot(str(artifacts / "compare-page.png"))
        assert (artifacts / "compare-page.png").stat().st_size > 10_000
    finally:
        driver.quit()


def test_hostile_requests_get_clear_codes(service):
    """Tokens with odd bytes, scheme case, huge ids, chunked oversized bodies, foreign Host headers."""
    bad_body = {"text": "   "}      # valid token -> 422 from validation; invalid token -> 401 first
    assert httpx.post(f"{service}/articles", json=bad_body,
                      headers={"Authorization": b"Bearer \xff\xfe"}).status_code == 401
    assert httpx.post(f"{service}/articles", json=bad_body,
                      headers={"Authorization": f"bearer {TOKEN}"}).status_code == 422
    assert httpx.post(f"{service}/articles", json=bad_body,
                      headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    for path in ("/stories/9223372036854775808", "/ui/stories/9223372036854775808", "/stories/-1"):
        assert httpx.get(f"{service}{path}").status_code == 404, path

    def chunks():
        for _ in range(40):
            yield b"x" * 10_000         # 400 KB, streamed without Content-Length; the limit is 300 KB

    r = httpx.post(f"{service}/compare", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    small = json.dumps({"a": {"text": "Ferry Nordlys runs aground"}, "b": {"text": "Nordlys ferry grounding"}})
    r = httpx.post(f"{service}/compare", content=iter([small.encode()]), timeout=120,
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 200 and "overall" in r.json()      # a small chunked body still works
    assert httpx.get(f"{service}/healthz", headers={"Host": "evil.example"}).status_code == 400
    assert httpx.get(f"{service}/healthz", headers={"Host": "localhost"}).status_code == 200


def test_a_refused_article_says_why(service):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    one = httpx.post(f"{service}/articles", json={"text": "Ferry Nordlys aground", "date": "1e20"}, headers=auth)
    assert one.status_code == 422 and "date" in one.json()["detail"]
    surrogate = '{"text": "Ferry Nordlys aground off Troms\\u00f8", "url": "https://example.org/\\ud800"}'
    r = httpx.post(f"{service}/articles", content=surrogate, headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 422 and "surrogate" in r.text
    odd_lang = httpx.post(f"{service}/articles", json=[{"text": "Ferry Nordlys refloated off Tromsø", "lang": "q,x:²"}],
                          headers=auth).json()["results"][0]
    assert odd_lang["status"] == "added" and "not a language code" in odd_lang["notes"][0]
    batch = httpx.post(f"{service}/articles", json=[{"text": "Ferry Nordlys aground", "date": "inf"}], headers=auth)
    assert batch.status_code == 200 and batch.json()["results"][0]["status"] == "error"
    assert httpx.get(f"{service}/healthz").status_code == 200      # nothing poisoned


def test_the_users_own_ids_come_back(service):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    body = {"id": "cms-4711", "title": "Nordlys ferry refloated off Tromsø",
            "text": "Salvage crews refloated the ferry Nordlys off Tromsø on Friday, four days after it ran aground."}
    r = httpx.post(f"{service}/articles", json=body, headers=auth, timeout=120)
    assert r.status_code == 200
    result = r.json()["results"][0]
    assert result["record_id"] == "cms-4711" and result["article"] != "cms-4711"
    by_user = httpx.get(f"{service}/articles/cms-4711/similar", params={"k": 3}, timeout=120)
    by_hash = httpx.get(f"{service}/articles/{result['article']}/similar", params={"k": 3}, timeout=120)
    assert by_user.status_code == by_hash.status_code == 200
    assert by_user.json()["results"] == by_hash.json()["results"]
    assert all("record_id" in hit for hit in by_user.json()["results"])
    # the same text posted again under another id: stored once, the second id kept and found
    again = httpx.post(f"{service}/articles", json={**body, "id": "cms-4712"}, headers=auth, timeout=120)
    assert again.json()["results"][0] == {**result, "status": "exists", "record_id": "cms-4712"}
    by_second = httpx.get(f"{service}/articles/cms-4712/similar", params={"k": 3}, timeout=120)
    assert by_second.status_code == 200 and by_second.json()["results"] == by_user.json()["results"]
    members = httpx.get(f"{service}/stories/{result['story']}", timeout=120).json()["members"]
    assert [(m["record_id"], m["also_record_ids"]) for m in members if m["id"] == result["article"]] == \
        [("cms-4711", ["cms-4712"])]
