"""The service against hostile or unlucky requests: NaN in JSON, huge lists, a busy or
replaced index, odd dates and headers, half-sent bodies. A real Corpus on a temporary
index, with the hashing encoder (no model load), behind FastAPI's TestClient; the
body-timeout test runs a real uvicorn server on a loopback port."""
import fcntl
import os
import socket
import sqlite3
import threading
import time

import pytest

TOKEN = "hostile-token-42"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    """What an app needs, built once: the hashing encoder and a Comparer around it."""
    from samestory.embed import load_encoder
    from samestory.pipeline import Comparer

    encoder = load_encoder("hashing")
    return encoder, Comparer(encoder=encoder), tmp_path_factory.mktemp("hostile")


def _app(parts, name: str, **settings):
    from samestory.corpus import Corpus
    from samestory.service.app import ServiceSettings, create_app

    encoder, comparer, folder = parts
    db = folder / name
    corpus = Corpus(db, encoder=encoder, progress=False, lock_timeout=0.3)
    settings = ServiceSettings(db=str(db), token=TOKEN, allowed_hosts=("testserver", "127.0.0.1"), **settings)
    return create_app(settings, comparer=comparer, corpus=corpus), db


@pytest.fixture(scope="module")
def client(parts):
    from fastapi.testclient import TestClient

    app, db = _app(parts, "news.db")
    with TestClient(app, raise_server_exceptions=False) as c:
        c.db = db
        yield c


def _count(db) -> int:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    finally:
        con.close()


@pytest.mark.parametrize("path, body", [
    ("/articles", '{"text": "Ferry Nordlys runs aground off Tromso", "title": NaN}'),
    ("/articles", '{"text": "Ferry Nordlys runs aground off Tromso", "date": Infinity}'),
    ("/articles", '[{"text": "Ferry Nordlys runs aground"}, {"text": -Infinity}]'),
    ("/articles", "NaN"),
    ("/compare", '{"a": {"text": NaN}, "b": {"text": "Nordlys ferry grounding"}}'),
])
def test_nan_and_infinity_in_a_body_get_422_not_500(client, path, body):
    r = client.post(path, content=body, headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, list) and all("loc" in d and "msg" in d for d in detail)


def test_one_post_is_one_transaction_and_long_lists_are_refused(client):
    """A list longer than one write batch (128) is committed at once: a reader never sees part of it."""
    before = _count(client.db)
    batch = [{"text": f"Harbour bulletin {i}: ferry route {i} to island {i * 7} resumed on Tuesday after "
                      f"repairs to pier {i}, the operator said; {i * 3} sailings were cancelled.",
              "title": f"Route {i} resumes", "date": "2026-03-01T08:00:00Z"} for i in range(200)]
    seen: set[int] = set()
    done = threading.Event()

    def watch():
        con = sqlite3.connect(client.db)
        while not done.is_set():
            seen.add(con.execute("SELECT COUNT(*) FROM articles").fetchone()[0])
            time.sleep(0.001)
        con.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        r = client.post("/articles", json=batch, headers=AUTH)
    finally:
        done.set()
        watcher.join()
    assert r.status_code == 200, r.text
    assert r.json()["added"] == 200
    assert seen <= {before, before + 200}, sorted(seen)

    too_many = [{"text": f"item {i}"} for i in range(1001)]
    r = client.post("/articles", json=too_many, headers=AUTH)
    assert r.status_code == 413 and "at most 1,000" in r.json()["detail"]
    assert _count(client.db) == before + 200


def test_a_busy_index_answers_503_with_retry_after(client):
    with open(f"{client.db}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)     # another writer holds the index
        r = client.post("/articles", json={"text": "Valdoria budget passes after an all-night session."},
                        headers=AUTH)
        assert client.get("/healthz").status_code == 200    # reading goes on
    assert r.status_code == 503, r.text
    assert int(r.headers["Retry-After"]) >= 1 and "busy" in r.json()["detail"]
    r = client.post("/articles", json={"text": "Valdoria budget passes after an all-night session."}, headers=AUTH)
    assert r.status_code == 200 and r.json()["added"] == 1


def test_an_index_replaced_under_the_service_answers_503(parts):
    from fastapi.testclient import TestClient

    app, db = _app(parts, "replaced.db")
    with TestClient(app, raise_server_exceptions=False) as c:
        assert c.post("/articles", json={"text": "Storm Ingrid closes Rotterdam port."}, headers=AUTH).status_code == 200
        other = db.with_name("other.db")
        sqlite3.connect(other).execute("CREATE TABLE t (x)")
        os.replace(other, db)
        r = c.post("/articles", json={"text": "Rotterdam port reopens after storm Ingrid."}, headers=AUTH)
        assert r.status_code == 503, r.text
        assert r.headers["Retry-After"] == "60" and "restart" in r.json()["detail"]
        os.remove(db)
        r = c.post("/articles", json={"text": "Rotterdam port reopens after storm Ingrid."}, headers=AUTH)
        assert r.status_code == 503 and r.headers["Retry-After"] == "60"


def test_head_healthz_and_an_empty_x_token_beside_a_bearer_token(client):
    assert client.head("/healthz").status_code == 200
    r = client.post("/articles", json={"text": "   "}, headers={**AUTH, "X-Token": ""})
    assert r.status_code == 422        # past the token check: the body is what is wrong
    assert client.post("/articles", json={"text": "   "}, headers={"X-Token": ""}).status_code == 401


@pytest.mark.parametrize("since, code", [
    ("-1", 422), ("12", 422), ("1e5", 422), ("yesterday", 422),
    ("2026-02-01", 200), ("2026-02-01T08:00:00Z", 200), ("2026-02-01T08:00:00+02:00", 200),
])
def test_since_is_an_iso_date(client, since, code):
    r = client.get("/stories", params={"since": since})
    assert r.status_code == code, r.text
    if code == 422:
        assert "since" in r.json()["detail"] and "ISO 8601" in r.json()["detail"]


def test_a_half_sent_body_gets_408_and_the_connection_closes(parts):
    import uvicorn

    app, _ = _app(parts, "slow.db", body_timeout=1.0)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.time() + 30
        while not server.started:
            assert time.time() < deadline and thread.is_alive(), "uvicorn did not start"
            time.sleep(0.05)
        with socket.create_connection(("127.0.0.1", port), timeout=15) as conn:
            conn.sendall(b"POST /compare HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 1000\r\n\r\n" + b'{"a": {"te')
            received = b""
            while chunk := conn.recv(4096):      # until the server closes the connection
                received += chunk
        assert received.startswith(b"HTTP/1.1 408"), received[:200]
        assert b"did not arrive" in received
        with socket.create_connection(("127.0.0.1", port), timeout=15) as conn:   # the server still serves
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            assert conn.recv(4096).startswith(b"HTTP/1.1 200")
    finally:
        server.should_exit = True
        thread.join(timeout=30)
