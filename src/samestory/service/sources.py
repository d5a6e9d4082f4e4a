"""The service's view of followed sources: ``GET /sources`` (JSON) and ``/ui/sources`` (a page),
each source's health (last fetch, status, articles found, errors in a row, last error). Read
from the index file through a read-only connection of each request's own."""
from __future__ import annotations

import html
import sqlite3
import urllib.parse
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from samestory.ingest.validate import safe_iso
from samestory.sources.state import health

_STYLE = ("body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:1rem;color:#222}"
          "table{border-collapse:collapse}td,th{padding:.2rem .5rem;border-bottom:1px solid #eee;text-align:left}"
          ".error{color:#a00}.muted{color:#666}nav a{margin-right:1rem}")


def source_health(db: str | Path) -> list[dict[str, Any]]:
    """Each followed source's health in the index at ``db`` ([] when none is followed or there is no index)."""
    path = Path(db)
    if not path.exists():
        return []
    conn = sqlite3.connect(f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro", uri=True, timeout=10)
    try:
        rows = health(conn)
    finally:
        conn.close()
    for row in rows:
        for key in ("last_fetch", "last_ok"):
            row[key] = safe_iso(row[key]) if row[key] else None
    return rows


def sources_page(rows: list[dict[str, Any]]) -> str:
    """``/ui/sources``: one table row per source."""
    def cell(value: Any) -> str:
        return html.escape("" if value is None else str(value))

    body = "".join(
        f"<tr><td>{'' if r['url'] == r['parent'] else '&nbsp;&nbsp;↳ '}{cell(r['url'])}</td><td>{cell(r['kind'])}</td>"
        f"<td class='{'error' if r['status'] == 'error' else ''}'>{cell(r['status'])}</td>"
        f"<td>{cell(r['last_fetch'])}</td><td>{cell(r['articles'])}</td><td>{cell(r['errors_in_row'])}</td>"
        f"<td class='muted'>{cell(r['last_error'])}</td></tr>" for r in rows)
    table = ("<table><tr><th>source</th><th>kind</th><th>status</th><th>last fetch (UTC)</th><th>articles found</th>"
             f"<th>errors in a row</th><th>last error</th></tr>{body}</table>" if rows
             else "<p class='muted'>No source is followed (samestory follow, or serve --follow).</p>")
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><meta http-equiv='refresh' content='60'>"
            f"<title>Sources</title><style>{_STYLE}</style></head><body><nav><a href='/'>Compare</a>"
            f"<a href='/ui/stories'>Stories</a><a href='/ui/sources'>Sources</a></nav><h1>Sources</h1>{table}"
            "</body></html>")


def make_router(db: str | Path) -> APIRouter:
    """``GET /sources`` and ``GET /ui/sources`` for the index at ``db``: mount with
    ``app.include_router(make_router(settings.db))``."""
    router = APIRouter()

    @router.get("/sources")
    def sources() -> dict[str, Any]:
        """Each followed source's health: last fetch, status, articles found, errors in a row, last error."""
        return {"sources": source_health(db)}

    @router.get("/ui/sources", response_class=HTMLResponse, include_in_schema=False)
    def sources_ui() -> str:
        return sources_page(source_health(db))

    return router
