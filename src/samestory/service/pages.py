"""The web pages: plain HTML, a little JavaScript, nothing fetched from elsewhere."""
from __future__ import annotations

import html
import importlib.util
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING

from samestory.stories.timeline import timeline_chart
from samestory.types import Story, StoryMember

if TYPE_CHECKING:
    from fastapi import FastAPI

#: Where the service serves Swagger UI's own files (from the ``swagger-ui-py`` package).
DOCS_ASSETS = "/static/swagger-ui"

_STYLE = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:1rem;color:#222}
nav a{margin-right:1rem} textarea{width:100%;height:14rem;font:inherit;font-size:.9rem}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:1rem} button{font-size:1rem;padding:.4rem 1.2rem}
.bar{background:#e6e9ef;height:14px;border-radius:3px;width:260px;display:inline-block;vertical-align:middle}
.bar span{display:block;height:100%;background:#3b6ea8;border-radius:3px}
.dim{display:flex;gap:.6rem;align-items:center;margin:.15rem 0}.dim b{width:6.5rem;display:inline-block}
p.passage{margin:.3rem 0;padding:.25rem .4rem;border-radius:3px;font-size:.92rem}
mark.aligned{display:block;padding:.25rem .4rem;border-radius:3px}
.verdict{font-size:1.3rem;margin:.6rem 0} .muted{color:#666} table{border-collapse:collapse}
td,th{padding:.2rem .5rem;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
"""
_COLORS = ["#ffe08a", "#b8e0ff", "#c9f2c0", "#f7c6e0", "#e0d4ff"]


def _page(title: str, body: str, script: str = "") -> str:
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><nav><a href='/'>Compare</a><a href='/ui/stories'>Stories</a>"
            f"<a href='/docs'>API</a></nav>{body}<script>{script}</script></body></html>")


def compare_page() -> str:
    body = """
<h1>Same story?</h1>
<p class="muted">Paste two articles (plain text or HTML, any of the common news languages) and compare them
on the SemEval-2022 Task 8 dimensions: 1 = very similar, 4 = very dissimilar.</p>
<form id="f"><div class="cols">
<div><label>Article A<br><textarea id="a" name="a" required></textarea></label></div>
<div><label>Article B<br><textarea id="b" name="b" required></textarea></label></div>
</div><p><button id="go" type="submit">Compare</button> <span id="status" class="muted"></span></p></form>
<div id="result"></div>"""
    script = """
const COLORS = %s;
const esc = s => String(s).replace(/[&<>"']/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
const art = t => /^\\s*</.test(t) ? {html: t} : {text: t};
function passages(list, aligned, side) {
  return list.map((p, i) => {
    const k = aligned.findIndex(x => x[side] === i);
    return k >= 0 ? `<p class="passage"><mark class="aligned" data-pair="${k}" style="background:${COLORS[k %% COLORS.length]}"
      title="aligned passage ${k + 1}, similarity ${aligned[k].similarity.toFixed(2)}">${esc(p)}</mark></p>`
      : `<p class="passage">${esc(p)}</p>`;
  }).join('');
}
const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const day = d => d.startsWith('weekday:') ? DAYS[+d.slice(8)] : d;
function list(title, items) { return `<b>${title}:</b> ${items.length ? items.map(esc).join(', ') : '–'}<br>`; }
document.getElementById('f').addEventListener('submit', async e => {
  e.preventDefault();
  const status = document.getElementById('status'), out = document.getElementById('result');
  status.textContent = 'comparing…'; out.innerHTML = '';
  const resp = await fetch('/compare', {method: 'POST', headers: {'content-type': 'application/json'},
    body: JSON.stringify({a: art(document.getElementById('a').value), b: art(document.getElementById('b').value)})});
  const r = await resp.json();
  if (!resp.ok) { status.textContent = 'error: ' + (typeof r.detail === 'string' ? r.detail :
      r.detail.map(d => d.loc.join('.') + ': ' + d.msg).join('; ')); return; }
  status.textContent = '';
  const ev = r.evidence, al = ev.aligned_passages;
  const bars = Object.entries(r.dimensions).map(([d, v]) => `<div class="dim" data-dim="${d}"><b>${d}</b>
    <span class="bar"><span style="width:${((4 - v) / 3 * 100).toFixed(0)}%%"></span></span> <span class="score">${v.toFixed(2)}</span></div>`).join('');
  const ents = Object.keys(ev.shared_entities).map(k => `<h4>${k}</h4>` + list('shared', ev.shared_entities[k]) +
    list('only A', ev.only_a_entities[k]) + list('only B', ev.only_b_entities[k])).join('');
  out.innerHTML = `<div class="verdict" id="verdict">${r.same_story ? 'Same story' : 'Not the same story'}
      (overall ${r.overall.toFixed(2)}, confidence ${r.confidence.toFixed(2)})</div>
    <div id="scores">${bars}</div>
    <p class="muted">Languages: A ${esc(ev.languages[0])}, B ${esc(ev.languages[1])}.
      Copied text: ${(ev.copied_share[0] * 100).toFixed(0)}%% of A is in B, ${(ev.copied_share[1] * 100).toFixed(0)}%% of B is in A.
      Cleaning removed ${ev.cleaning[0].removed.length} + ${ev.cleaning[1].removed.length} lines of debris.</p>
    ${ev.flags.map(f => `<p class="muted">Note: ${esc(f)}</p>`).join('')}
    <h3>Passages read (aligned ones highlighted in matching colours)</h3>
    <div class="cols"><div id="passages-a">${passages(ev.passages[0], al, 'a_index')}</div>
      <div id="passages-b">${passages(ev.passages[1], al, 'b_index')}</div></div>
    <div class="cols"><div><h3>Entities</h3>${ents}</div>
      <div><h3>Places, dates, numbers</h3>${list('countries A', ev.countries[0])}${list('countries B', ev.countries[1])}
      ${list('dates A', ev.dates[0].map(day))}${list('dates B', ev.dates[1].map(day))}${list('numbers A', ev.numbers[0])}${list('numbers B', ev.numbers[1])}</div></div>`;
});
""" % (repr(_COLORS),)  # noqa: UP031 - a JavaScript template: braces everywhere
    return _page("samestory: compare", body, script)


def stories_page(stories: list[Story], undated: bool | None = None) -> str:
    """``/ui/stories``: the timeline (saying so when its times are ingest times: ``undated``, or
    found from the stories' members when they were loaded) and one table row per story."""
    rows = "".join(
        f"<tr><td><a href='/ui/stories/{s.id}'>{s.id}</a></td><td>{html.escape(s.label)}</td><td>{s.size}</td>"
        f"<td>{html.escape(s.first_seen)}</td><td>{html.escape(s.last_seen)}</td>"
        f"<td>{html.escape(', '.join(s.languages))}</td></tr>" for s in stories)
    chart = timeline_chart(stories, top=30, undated=undated)
    body = (f"<h1>Stories</h1><p class='muted'>{len(stories)} stories, most recent first.</p>{chart}"
            f"<table><tr><th>story</th><th>label</th><th>articles</th><th>first seen</th><th>last seen</th>"
            f"<th>languages</th></tr>{rows}</table>")
    return _page("samestory: stories", body)


def linked_title(member: StoryMember) -> str:
    """A member's title as HTML (its id when it has none): a link to its URL when that is an
    http(s) URL, plain text otherwise; everything escaped."""
    text = html.escape(member.title.strip() or member.id)
    url = (member.url or "").strip()
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:        # "http://[::1" and the like: not a URL a browser can follow
        return text
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return f"<a href=\"{html.escape(url, quote=True)}\" rel=\"noopener noreferrer\">{text}</a>"
    return text


def _copy_note(member: StoryMember, titles: dict[str, str]) -> str:
    """"copy of" and the source's title (its id when the source is in another story or untitled)."""
    if not member.duplicate_of:
        return ""
    source = titles.get(member.duplicate_of, "").strip() or member.duplicate_of
    share = f" ({member.copied_share:.0%} of it copied)" if member.copied_share is not None else ""
    return f"copy of <i title='{html.escape(member.duplicate_of)}'>{html.escape(source)}</i>{share}"


def story_page(story: Story) -> str:
    """``/ui/stories/{id}``: the story's members, titles linked to their URLs."""
    titles = {m.id: m.title for m in story.members}
    rows = "".join(
        f"<tr><td>{html.escape(m.date or '')}</td><td>{html.escape(m.lang)}</td><td>{linked_title(m)}</td>"
        f"<td>{_copy_note(m, titles)}</td><td class='muted'>{html.escape(m.id)}</td></tr>" for m in story.members)
    body = (f"<h1>{html.escape(story.label)}</h1><p class='muted'>Story {story.id}: {story.size} articles, "
            f"{html.escape(', '.join(story.languages))}, {html.escape(story.first_seen)} to "
            f"{html.escape(story.last_seen)}</p><table><tr><th>date</th><th>lang</th><th>title</th><th></th>"
            f"<th>id</th></tr>{rows}</table>")
    return _page(f"samestory: {story.label}", body)


def add_local_docs(app: FastAPI, openapi_url: str = "/openapi.json") -> None:
    """Serve ``/docs`` (Swagger UI) from files of the ``swagger-ui-py`` package, mounted at
    ``DOCS_ASSETS``, so that the page works without internet; the app must be made with
    ``docs_url=None, redoc_url=None``."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    app.mount(DOCS_ASSETS, StaticFiles(directory=str(swagger_ui_dir())), name="swagger-ui")

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=openapi_url, title=f"{app.title}: API",
                                   swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png")


def swagger_ui_dir() -> Path:
    """The folder of Swagger UI's files in the ``swagger-ui-py`` package (Swagger UI 5, which
    reads the OpenAPI 3.1 that FastAPI writes), found without importing the package.

    Raises:
        RuntimeError: the package is not installed.
    """
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed: pip install swagger-ui-py (samestory's /docs needs it)")
    return Path(next(iter(spec.submodule_search_locations))) / "static"
