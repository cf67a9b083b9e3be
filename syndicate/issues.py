"""Newsletter issues as content: content/newsletters/*.md -> Issue values, checked.

An issue names its articles (`articles`, slugs in order) or takes the newest syndicable ones
(`latest: N`), and its body is the editor's introduction in Markdown. Reading an issue is part
of the read phase, so every problem in every issue is reported at once with the line to fix;
rendering it (e-mail HTML, plain text, .eml, web version) is newsletter.py's, which only a
build that renders imports. An Issue holds its articles' slugs, never the articles: the plan
it is part of is kept between builds, and its articles' bodies may change under it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath

from .cache import content_hash
from .content import ISSUES_FOLDER, SourceFile, normalize_text, split_front_matter
from .errors import Problem, Problems, SiteError
from .fields import Fields, parse_yaml, suggestion
from .model import Article, Site
from .urls import is_safe_slug, issue_path

ISSUE_KEYS = ("title", "date", "articles", "latest", "mode", "preheader", "draft")
MODES = ("full", "summary")
# Every template an issue's files are made with: a change to any of them renders every issue again.
TEMPLATES = ("newsletter-content.html", "newsletter-email.html", "newsletter-email.css", "newsletter-email.txt",
             "newsletter.html", "newsletter-archive.html")


# Types kept between builds are not slotted (see model.py): a plan is stored whole.
@dataclass(frozen=True)
class Issue:
    """One issue, its articles chosen and checked; complete when it is built."""

    source: str  # as messages name it: content/newsletters/2026-03-weekly.md
    name: str  # the file name without .md: output/newsletter/<name>/
    title: str  # the subject line
    date: datetime
    mode: str  # "full" or "summary"
    preheader: str
    intro_html: str  # the body's Markdown rendered, links as site-root paths
    slugs: tuple[str, ...]  # its articles, in order: each published and syndicable when it was read
    is_draft: bool = False
    source_hash: str = ""
    links: tuple[tuple[str, int], ...] = ()  # the site-root paths the introduction links to, with their lines in the file

    @property
    def path(self) -> str:
        return issue_path(self.name)


def is_issue(source: SourceFile) -> bool:
    return source.rel.startswith(ISSUES_FOLDER)


def issue_names(sources: Sequence[SourceFile]) -> list[str]:
    """The name of every issue file among the content files, sorted (for "did you mean")."""
    return sorted(PurePosixPath(s.rel).stem for s in sources if is_issue(s))


def load_issues(site: Site, sources: Sequence[SourceFile], articles: Sequence[Article] | None, *,
                include_drafts: bool) -> tuple[Issue, ...]:
    """Every issue under content/newsletters/, newest first; raises SiteError with every problem.

    `articles` are the build's published articles: an issue can only carry those. None: they
    are not known (an article failed to load), so each issue's own fields are checked alone.
    """
    problems = Problems()
    issues: list[Issue] = []
    names: dict[str, str] = {}
    for source in (s for s in sources if is_issue(s)):
        issue = _read_issue(site, source, articles, problems)
        if issue is None:
            continue
        if issue.name in names:
            problems.add(issue.source, 1, f"issue name '{issue.name}' is also used by {names[issue.name]}; rename one file")
            continue
        names[issue.name] = issue.source
        if include_drafts or not issue.is_draft:
            issues.append(issue)
    if names and site.newsletter is None:
        problems.add(site.source, 1, (
            f"content/{ISSUES_FOLDER} has issues, so site.yaml needs a 'newsletter' section "
            "(name, from, address, unsubscribe)"))
    problems.raise_if_any()
    return tuple(sorted(sorted(issues, key=lambda i: i.name), key=lambda i: i.date, reverse=True))


def issue_problems(site: Site, sources: Sequence[SourceFile], include_drafts: bool) -> list[Problem]:
    """The issues' own problems, for a build whose articles failed to load: reported with them."""
    try:
        load_issues(site, sources, None, include_drafts=include_drafts)
    except SiteError as exc:
        return list(exc.problems)
    return []


def _read_issue(site: Site, source: SourceFile, articles: Sequence[Article] | None, problems: Problems) -> Issue | None:
    from .markup import MarkupError, render_markdown  # Markdown loads with the builds that read content

    try:
        with open(source.path, "rb") as handle:
            data = handle.read(site.max_article_bytes + 1)
        text = data.decode("utf-8-sig")
    except OSError as exc:
        problems.add(source.shown, 1, f"cannot read file: {exc.strerror}")
        return None
    except UnicodeDecodeError as exc:
        problems.add(source.shown, data[: exc.start].count(b"\n") + 1, f"not valid UTF-8 (byte {exc.start}); save the file as UTF-8")
        return None
    if len(data) > site.max_article_bytes:
        problems.add(source.shown, 1, (f"file is over the limit of {site.max_article_bytes:,} bytes "
                                       "(raise max_article_bytes in site.yaml if this is intended)"))
        return None
    split = split_front_matter(normalize_text(text), source.shown)
    if isinstance(split, Problem):
        problems.extend([split])
        return None
    front, body_text, body_line = split
    doc = parse_yaml(front, source.shown, line_offset=1)
    if doc.problems and not doc.data:  # a YAML syntax error: nothing more to say about the keys
        problems.extend(doc.problems)
        return None
    fields = Fields(doc)
    for key in fields.unknown(ISSUE_KEYS):
        doc.problem((key,), f"unknown front matter key '{key}' in a newsletter issue{suggestion(key, ISSUE_KEYS)}")
    name = PurePosixPath(source.rel).stem
    if not is_safe_slug(name):
        doc.problem((), f"issue file name '{name}' must be letters, digits, '-', '_' or '.' (it names the issue's folder)")
    title = fields.text("title", required=True)
    date = fields.when("date", site.tz)
    if date is None and "date" not in fields.data:
        doc.problem(("date",), "missing required key 'date' (the day the issue goes out, like 2026-03-02)")
    mode = fields.text("mode", default="full").lower()
    if mode not in MODES:
        doc.problem(("mode",), f"'mode' must be full or summary, not '{mode}'")
    is_draft = fields.flag("draft", False)
    chosen = _choose_articles(fields, date, articles)
    if doc.problems or date is None:
        problems.extend(doc.problems)
        return None
    try:
        body = render_markdown(body_text, PurePosixPath(source.rel).parent)
    except MarkupError as exc:
        problems.add(source.shown, body_line + exc.line - 1, exc.message)
        return None
    return Issue(
        source=source.shown, name=name, title=title, date=date, mode=mode,
        preheader=fields.text("preheader"), intro_html=body.html, slugs=tuple(a.slug for a in chosen),
        is_draft=is_draft, source_hash=content_hash(data),
        links=tuple((link, body_line + max(1, line) - 1) for link, line in zip(body.links, body.link_lines, strict=True)),
    )


def _choose_articles(fields: Fields, date: datetime | None, articles: Sequence[Article] | None) -> tuple[Article, ...]:
    """`articles` (slugs, in the editor's order) or `latest: N` (the newest syndicable
    articles published on or before the issue's day); problems go on the fields' document."""
    import difflib

    doc = fields.doc
    listed, latest = fields.data.get("articles"), fields.data.get("latest")
    if listed is not None and latest is not None:
        doc.problem(("latest",), "give either 'articles' (a list of slugs) or 'latest' (a number), not both")
        return ()
    if latest is not None:
        count = fields.integer("latest", 0)
        if not count or date is None or articles is None:
            return ()
        day = date.date()  # in the site's time zone, as every date is read
        found = [a for a in articles if a.is_syndicable and not a.is_draft and a.date.astimezone(date.tzinfo).date() <= day]
        if not found:
            doc.problem(("latest",), f"no syndicable article is published on or before {day.isoformat()} for 'latest'")
        return tuple(found[:count])
    if listed is None:
        doc.problem(("articles",), "missing 'articles' (a list of article slugs) or 'latest' (a number of newest articles)")
        return ()
    slugs = fields.text_list("articles")
    if not slugs and not doc.problems:
        doc.problem(("articles",), "'articles' is empty: list at least one article slug")
    if articles is None:
        return ()
    by_slug = {a.slug: a for a in articles}
    chosen: list[Article] = []
    for slug in slugs:
        article = by_slug.get(slug)
        if article is None:
            close = difflib.get_close_matches(slug, list(by_slug), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            doc.problem(("articles",), f"'{slug}' in 'articles' is not a published article (drafts and future-dated ones cannot go out){hint}")
        elif not article.is_syndicable:
            doc.problem(("articles",), (
                f"'{slug}' cannot go in a newsletter: it is not syndicable ({article.why_not_syndicable})"))
        elif article in chosen:
            doc.problem(("articles",), f"'{slug}' is listed twice in 'articles'")
        else:
            chosen.append(article)
    return tuple(chosen)
