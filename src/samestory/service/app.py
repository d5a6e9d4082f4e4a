"""The HTTP service: the same answers as the CLI, over FastAPI.

The encoder, the scorer and the corpus load once per process (at start-up).
Endpoints that run the model are plain ``def`` functions, which FastAPI runs in
its thread pool, so the event loop never waits on model work; one lock
serialises model and store access (the C engine and the SQLite connection are
shared). No endpoint reads files from paths given by the client.

Writes need the service token when one is set: give it to ``samestory serve`` through
``SAMESTORY_TOKEN`` or ``--token-file`` (``--token`` shows it to every user in ``ps``).
An index busy with another writer, or deleted or replaced under the service, answers
503 with ``Retry-After``, never 500.
"""
from __future__ import annotations

import math
import secrets
import threading
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, model_validator
from starlette.middleware.trustedhost import TrustedHostMiddleware

from samestory.ingest import InputRecord, iso_timestamp
from samestory.service.limits import DEFAULT_BODY_TIMEOUT, BodyLimit
from samestory.types import InputError, StoreBusy, StoreChanged

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from samestory.corpus import Corpus
    from samestory.pipeline import Comparer

DEFAULT_MAX_BODY = 2_000_000
#: Articles one POST /articles may hold (one transaction).
MAX_ARTICLES_PER_POST = 1000


LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")


@dataclass(frozen=True)
class ServiceSettings:
    db: str
    token: str | None = None           # when set, writing endpoints need it
    max_body_bytes: int = DEFAULT_MAX_BODY
    # Host headers served: loopback names by default, so a page elsewhere cannot
    # reach a loopback service through DNS rebinding.
    allowed_hosts: tuple[str, ...] = LOOPBACK_NAMES
    lock_timeout: float = 30.0         # seconds a write waits for another writer of the index (then 503)
    body_timeout: float = DEFAULT_BODY_TIMEOUT   # seconds between parts of a request body (then 408)
    follow: tuple[str, ...] = ()       # sources followed in the background (``samestory.sources``)
    hot_days: float | None = None      # the writer's in-memory window (``Corpus``)


class ArticleIn(BaseModel):
    text: str | None = Field(None, description="plain text of the article")
    html: str | None = Field(None, description="raw HTML of the page (trafilatura extracts the article)")
    title: str | None = None
    date: str | None = None
    url: str | None = None
    lang: str | None = Field(None, description="ISO 639-1 code; detected when absent")
    id: str | None = Field(None, max_length=1000,
                           description="your own id for the article (from your CMS), shown beside samestory's")

    @model_validator(mode="after")
    def _needs_content(self) -> ArticleIn:
        if not any(v and v.strip() for v in (self.text, self.html, self.title)):
            raise ValueError("an article needs a non-empty 'text' or 'html' field")
        return self

    def record(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class CompareIn(BaseModel):
    a: ArticleIn
    b: ArticleIn


# FastAPI's HTTPBearer reads ``Authorization: Bearer TOKEN`` (scheme in any case) and
# documents it in the OpenAPI description. Without auto_error, a missing header or another
# scheme is None: ``X-Token`` still counts, and a service without a token stays open.
_BEARER = HTTPBearer(auto_error=False, description="the service token (SAMESTORY_TOKEN or `--token-file` of "
                                                    "`samestory serve`), for POST /articles")


class _Loaded:
    """What the service loads once, at start-up."""

    comparer: Comparer
    corpus: Corpus


def create_app(settings: ServiceSettings, comparer: Comparer | None = None, corpus: Corpus | None = None) -> FastAPI:
    state = _Loaded()
    lock = threading.RLock()
    write_lock = threading.Lock()     # one POST /articles at a time, apart from the readers' lock

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from samestory.corpus import Corpus
        from samestory.pipeline import Comparer

        state.comparer = comparer or Comparer()
        # PATH.usearch is written at most once a minute (not after every POST) and at shutdown;
        # a reader elsewhere catches it up from the store.
        state.corpus = corpus or Corpus(settings.db, progress=False, lock_timeout=settings.lock_timeout,
                                        checkpoint_seconds=60.0, hot_days=settings.hot_days)
        state.corpus.state()   # load the index now, not on the first request
        follower = None
        if settings.follow:       # one writer, as ever: the follower writes under the service's own locks
            from samestory.sources.background import BackgroundFollower

            @contextmanager
            def guard() -> Iterator[None]:
                with write_lock, state.corpus.store.writer(), lock:
                    yield

            follower = BackgroundFollower(settings.follow, state.corpus, guard=guard)
            follower.start()
        yield
        if follower is not None:
            follower.stop()
        if corpus is None:
            with lock:
                state.corpus.close()

    # /docs from local files (no CDN: it works without internet); no /redoc (its script is on a CDN)
    app = FastAPI(title="samestory", version=_version(), lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Do these news articles report the same story, and how do they differ?")
    from samestory.service import pages

    pages.add_local_docs(app)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, timeout=settings.body_timeout)

    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(settings.allowed_hosts))
    from samestory.service.sources import make_router

    app.include_router(make_router(settings.db))     # GET /sources, /ui/sources

    def require_token(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
                      x_token: str | None = Header(None)) -> None:
        if not settings.token:
            return
        # An empty X-Token header counts as absent (some clients send every configured header).
        given = x_token if x_token else credentials.credentials if credentials else None
        # Compared as bytes: a header may carry any byte, and compare_digest takes only ASCII str.
        if not given or not secrets.compare_digest(given.encode("utf-8", "surrogateescape"),
                                                   settings.token.encode("utf-8")):
            raise HTTPException(401, "this endpoint needs the service token (Authorization: Bearer TOKEN)")

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # The errors echo the input, which may hold NaN or Infinity (Python's json reads them):
        # said as strings, so the 422 can always be sent.
        return JSONResponse({"detail": _finite(jsonable_encoder(exc.errors()))}, status_code=422)

    @app.exception_handler(StoreBusy)
    async def _busy(request: Request, exc: StoreBusy) -> JSONResponse:
        return JSONResponse({"detail": f"the index is busy: {exc}"}, status_code=503,
                            headers={"Retry-After": str(max(1, math.ceil(exc.retry_after)))})

    @app.exception_handler(StoreChanged)
    async def _changed(request: Request, exc: StoreChanged) -> JSONResponse:
        return JSONResponse({"detail": f"the index file changed under the service ({exc}); "
                                       "it must be restarted"}, status_code=503, headers={"Retry-After": "60"})

    @app.api_route("/healthz", methods=["GET", "HEAD"])
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "articles": state.corpus.store.count()}

    @app.post("/compare")
    def compare(body: CompareIn) -> dict[str, Any]:
        """Score two articles: the same JSON as ``samestory compare --format json``."""
        from samestory.pipeline import to_article

        with lock:
            a, b = to_article(body.a.record()), to_article(body.b.record())
            return state.comparer.compare(a, b).to_dict()

    @app.post("/articles", dependencies=[Depends(require_token)])
    def add_articles(body: ArticleIn | list[ArticleIn]) -> dict[str, Any]:
        """Add one article or a list of at most 1,000 (a longer list gets 413, nothing added).

        Returns ``{"added", "already_stored", "errors", "results"}``, with one result per article
        sent, in order, in the outcome shape of ``samestory index add --report`` (``AddOutcome.to_dict``)
        plus ``index``, its position in the list from 0: ``source`` (``"http"``), ``line`` (position
        from 1), ``status`` (``added``, ``exists`` or ``error``), ``record_id`` (the article's own
        ``id``, when sent), ``notes`` (what validation set aside, when any), then ``article`` (the
        stored article's id, a content hash) and ``story`` or, for an error, ``error`` (why).

        One POST is one transaction: all of it is stored, or (after a crash) none of it. A single
        article (not a list) that cannot be added gets 422 with the reason; in a list, each item
        says its own. 503 with Retry-After when another process is writing the index."""
        items = body if isinstance(body, list) else [body]
        if len(items) > MAX_ARTICLES_PER_POST:
            raise HTTPException(413, f"{len(items):,} articles in one request; at most "
                                     f"{MAX_ARTICLES_PER_POST:,}: send the rest in further requests")
        records = [InputRecord("http", i + 1, a.record()) for i, a in enumerate(items)]
        # Wait for another process's writer (up to --lock-timeout) holding only the write lock:
        # reads go on meanwhile.
        with write_lock, state.corpus.store.writer(), lock:
            report = state.corpus.add(records, batch_size=max(1, len(records)))
        if not isinstance(body, list) and report.outcomes[0].status == "error":
            raise HTTPException(422, report.outcomes[0].error)     # one article, refused: say why
        results = [{"index": o.line - 1, **o.to_dict()} for o in report.outcomes]
        return {"added": report.added, "already_stored": report.already_stored, "errors": report.errors,
                "results": results}

    @app.get("/articles/{article_id}")
    def article(article_id: str) -> dict[str, Any]:
        """One stored article by samestory's id or the record's own: its ids, title, date, language,
        URL, story and copy source (404 when there is none, e.g. after a delete)."""
        with lock:
            found = state.corpus.store.article(article_id)
            if found is None:
                raise HTTPException(404, f"no article {article_id!r}")
            story_id = state.corpus.store.resolve_story(found.story) if found.story is not None else None
            source = state.corpus.store.article(found.dup_of) if found.dup_of is not None else None
        return {"id": found.id, "record_id": found.record_id, "title": found.title, "date": found.date,
                "lang": found.lang, "url": found.url, "story": story_id, "copy_of": source.id if source else None,
                "copied": found.copied}

    @app.delete("/articles/{article_id}", dependencies=[Depends(require_token)])
    def delete_article(article_id: str) -> dict[str, Any]:
        """Remove an article (a takedown, a retraction) by samestory's id or the record's own: gone
        from stories, similar and duplicates at once. Answers what ``samestory index delete
        --format json`` prints; 404 when there is no such article; 503 as ``POST /articles``."""
        with write_lock, state.corpus.store.writer(), lock:
            report = state.corpus.delete([article_id])
        if not report.removed:
            raise HTTPException(404, f"no article {article_id!r}")
        return report.to_dict()

    @app.get("/articles/{article_id}/similar")
    def similar(article_id: str, k: int = Query(10, ge=1, le=100),
                rescore: bool = Query(False, description="re-score with the pair scorer (slower)")) -> dict[str, Any]:
        with lock:
            if state.corpus.store.article(article_id) is None:
                raise HTTPException(404, f"no article {article_id!r}")
            hits = state.corpus.similar(article_id, k=k, rescore=rescore, comparer=state.comparer)
        return {"article": article_id, "results": [h.to_dict() for h in hits]}

    @app.get("/stories")
    def stories(since: str | None = Query(None, description="ISO 8601 date or date-time (UTC unless it says), "
                                                           "e.g. 2026-02-01 or 2026-02-01T08:00:00Z"),
                limit: int = Query(100, ge=1, le=10_000)) -> dict[str, Any]:
        """Live stories, latest first: ``id``, ``label``, ``first_seen``, ``last_seen``, ``size`` (how
        many articles) and ``languages``. The list leaves the members out (``GET /stories/{id}``
        gives them)."""
        try:
            ts = iso_timestamp(since) if since else None
        except InputError as exc:
            raise HTTPException(422, str(exc)) from None
        with lock:
            found = state.corpus.stories(since=ts, limit=limit)
        return {"stories": [{k: v for k, v in s.to_dict().items() if k != "members"} for s in found]}

    @app.get("/stories/{story_id}")
    def story(story_id: int) -> dict[str, Any]:
        """One story, as in ``GET /stories``, with its ``members`` (a merged story's id leads to
        the story it joined)."""
        with lock:
            found = state.corpus.story(story_id)
        if found is None:
            raise HTTPException(404, f"no story {story_id}")
        return found.to_dict()

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def compare_page() -> str:
        return pages.compare_page()

    @app.get("/ui/stories", response_class=HTMLResponse, include_in_schema=False)
    def stories_page() -> str:
        with lock:
            found = state.corpus.stories(limit=200)
            undated = state.corpus.store.count() > 0 and state.corpus.store.count(dated=True) == 0
        return pages.stories_page(found, undated=undated)

    @app.get("/ui/stories/{story_id}", response_class=HTMLResponse, include_in_schema=False)
    def story_page(story_id: int) -> str:
        with lock:
            found = state.corpus.story(story_id)
        if found is None:
            raise HTTPException(404, f"no story {story_id}")
        return pages.story_page(found)

    return app


def _finite(value: Any) -> Any:
    """``value`` (JSON data) with NaN and the infinities as strings, which JSON can carry."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value




def _version() -> str:
    from samestory import __version__

    return __version__


def serve(db: str | Path, host: str = "127.0.0.1", port: int = 8000, token: str | None = None,
          max_body_bytes: int = DEFAULT_MAX_BODY, allowed_hosts: tuple[str, ...] = (),
          lock_timeout: float = 30.0, follow: tuple[str, ...] = (), hot_days: float | None = None) -> None:
    import uvicorn

    hosts = LOOPBACK_NAMES + tuple(allowed_hosts) + ((host,) if host not in ("0.0.0.0", "::") else ())
    app = create_app(ServiceSettings(db=str(db), token=token, max_body_bytes=max_body_bytes,
                                     allowed_hosts=hosts, lock_timeout=lock_timeout, follow=follow,
                                     hot_days=hot_days))
    uvicorn.run(app, host=host, port=port, log_level="warning")
