"""`init`, `new` and `newsletter new`: files a person would otherwise copy from the docs and get subtly wrong.

Both only ever create files, never replace them: `init` refuses a folder that already has
something in it, and `new` opens its file in exclusive mode, so an article cannot be
overwritten even by a second `new` racing the first. The texts live here rather than in
package data because they are short and are the one place their shape is decided.

A new site deploys on its first push without an edit: `requirements.txt` pins the exact
release of this tool that wrote it (GitHub Actions, Netlify and Cloudflare Pages all install
from it), so a later release cannot change a site's output until its owner chooses to upgrade.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path

import yaml

from . import DISTRIBUTION, __version__
from .content import PLACEHOLDER
from .errors import SiteError, display_path
from .fields import strip_controls
from .model import Article, BuildOptions, Site
from .theme import format_date
from .urls import is_safe_slug, slugify


def yaml_string(text: str) -> str:
    """A double-quoted YAML scalar that reads back as exactly `text` (no `no` -> False)."""
    return yaml.safe_dump(text, default_style='"', allow_unicode=True, width=1_000_000).strip()


def init_site(folder: Path, today: date | None = None) -> list[Path]:
    """Write a new site into `folder` (created, or existing and empty); returns the files.

    The sample article is dated the day before `today` so it is published by the very
    first build whatever the clock's time of day.
    """
    shown = str(folder)
    if folder.exists() and not folder.is_dir():
        raise SiteError.one(shown, 1, "exists and is not a folder; choose a new folder name")
    if folder.is_dir() and any(folder.iterdir()):
        raise SiteError.one(shown, 1, "folder is not empty; choose a new folder name (init never overwrites files)")
    published = (today or datetime.now().date()) - timedelta(days=1)
    files = {
        "site.yaml": SITE_YAML.format(title=yaml_string(_title_from(folder))),
        f"content/{SAMPLE_SLUG}.md": SAMPLE_ARTICLE.format(date=published.isoformat()),
        "content/pages/about.md": ABOUT_PAGE,
        ".gitignore": GITIGNORE,
        "requirements.txt": REQUIREMENTS.format(requirement=pinned_requirement()),
        ".github/workflows/deploy.yml": DEPLOY_WORKFLOW,
        "netlify.toml": NETLIFY_TOML,
    }
    written = []
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(text)
        written.append(path)
    return written


def pinned_requirement() -> str:
    """The requirement a new site installs: this very release, by its name on the index."""
    return f"{DISTRIBUTION}=={__version__}"


def new_article(site: Site, title: str, author_id: str | None = None, today: date | None = None) -> Path:
    """Create content/<slug>.md as a draft with complete front matter; returns its path."""
    title = " ".join(strip_controls(title).split())
    known = ", ".join(site.authors)
    if author_id is None:
        if len(site.authors) != 1:
            raise SiteError.about("--author", f"this site has several authors; choose one with --author (known: {known})")
        author_id = next(iter(site.authors))
    if author_id not in site.authors:
        raise SiteError.about("--author", f"unknown author '{author_id}' (known: {known or 'none defined'})")
    slug = slugify(title)
    if not slug or not is_safe_slug(slug):
        raise SiteError.about("TITLE", f"'{title}' has no letters or digits to name the file after")
    path = site.content_dir / f"{slug}.md"
    shown = display_path(path, Path.cwd().absolute())
    clash = _same_slug(site, slug)
    if clash is not None and clash != path:
        raise SiteError.one(display_path(clash, Path.cwd().absolute()), 1,
                            f"an article with slug '{slug}' already exists; choose another title")
    day = today or datetime.now(site.tz).date()
    text = NEW_ARTICLE.format(title=yaml_string(title), date=day.isoformat(), author=author_id, placeholder=PLACEHOLDER)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise SiteError.one(shown, 1, "already exists; choose another title or edit that file") from None
    return path


def scheduled_articles(site: Site, now: datetime | None = None) -> tuple[Article, ...]:
    """Published-but-future articles, earliest first, by the same clock and rules as build().

    No cache: `schedule` may run while `serve` builds, and the cache is only safe to open
    under the build lock, which a listing has no business waiting for.
    """
    from .build import build_time
    from .cache import Cache
    from .content import load_content

    clock = build_time(BuildOptions(now=now))
    content = load_content(site, include_drafts=False, now=clock, cache=Cache(None))
    return tuple(sorted(content.scheduled, key=lambda a: (a.date, a.slug)))


def new_issue(site: Site, slugs: Sequence[str], latest: int | None, title: str = "", today: date | None = None) -> Path:
    """Create content/newsletters/<name>.md as a draft issue; returns its path.

    The articles are the slugs given, else `latest: N`, else every syndicable article
    published since the newest issue (the five newest when there is none yet), written out
    by slug so the issue keeps its contents whatever is published before it goes out.
    """
    from .cache import Cache
    from .content import load_content, scan_content
    from .errors import Problems
    from .issues import load_issues

    newsletter = site.newsletter
    if newsletter is None:
        raise SiteError.one(site.source, 1, "site.yaml has no 'newsletter' section: add its name, from, address and unsubscribe first")
    if slugs and latest:
        raise SiteError.one(site.source, 1, "name the articles or give --latest, not both")
    day = today or datetime.now(site.tz).date()
    problems = Problems()
    scanned = scan_content(site, problems)
    problems.raise_if_any()
    content = load_content(site, include_drafts=False, now=datetime.now(site.tz), cache=Cache(None), scanned=scanned)
    syndicable = [a for a in content.articles if a.is_syndicable]
    by_slug = {a.slug: a for a in syndicable}
    for slug in slugs:
        if slug not in by_slug:
            close = difflib.get_close_matches(slug, list(by_slug), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else f" (syndicable: {', '.join(list(by_slug)[:8]) or 'none'})"
            raise SiteError.one(site.source, 1, f"'{slug}' is not a published, syndicable article{hint}")
    chosen = list(dict.fromkeys(slugs))
    if not chosen and not latest:
        issues = load_issues(site, scanned[0], content.articles, include_drafts=True)
        since = issues[0].date if issues else None
        chosen = [a.slug for a in syndicable if since is None or a.date > since][: 5 if since is None else None]
        if not chosen:
            raise SiteError.one(issues[0].source if issues else site.source, 1, (
                "no syndicable article was published since the newest issue; name the articles or use --latest N"))
    given = " ".join(strip_controls(title).split())
    title = given or f"{newsletter.name}, {format_date(datetime.combine(day, time()))}"
    name = day.isoformat() + (f"-{slugify(given)[:60].strip('-')}" if slugify(given) else "")
    path = site.content_dir / "newsletters" / f"{name}.md"
    choice = f"latest: {latest}" if latest else "articles:\n" + "".join(f"  - {slug}\n" for slug in chosen).rstrip("\n")
    text = NEW_ISSUE.format(title=yaml_string(title), date=day.isoformat(), articles=choice, name=name)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise SiteError.one(display_path(path, Path.cwd().absolute()), 1,
                            "already exists; give the new issue another --title, or edit that file") from None
    return path


def _same_slug(site: Site, slug: str) -> Path | None:
    """Another article file that would take the same slug (pages have their own URL space)."""
    if not site.content_dir.is_dir():
        return None
    pages, issues = site.content_dir / "pages", site.content_dir / "newsletters"
    found = (p for p in sorted([*site.content_dir.rglob(f"{slug}.md"), *site.content_dir.rglob(f"{slug}.markdown")])
             if not p.is_relative_to(pages) and not p.is_relative_to(issues))
    return next(found, None)


def _title_from(folder: Path) -> str:
    words = folder.absolute().name.replace("-", " ").replace("_", " ").split()
    return " ".join(w[:1].upper() + w[1:] for w in words) or "My Site"

SAMPLE_SLUG = "the-question-behind-the-question"

SITE_YAML = """\
# Site settings: title, url and authors are required; every article names one author.
title: {title}
url: "https://example.org/"          # where the site will live; every link and feed uses it
description: "Short, practical articles on serving customers well."
language: en
timezone: UTC                        # the zone of dates written without one
authors:
  your-name:
    name: "Your Name"
    url: "https://example.org/"
    bio: "Writes about customer service."
    reprint:
      preamble: >-
        You may reprint this article free of charge in your newsletter or on your website,
        provided it is unchanged and ends with this statement, with its links active:
      statement: |
        Copyright, Your Name. Used with permission. Your Name writes about customer service; read more at www.example.org or subscribe at https://example.org/feed.xml.
      commercial: "For use in a paid publication or a commercial product, please contact us first."
"""

SAMPLE_ARTICLE = """\
---
title: "The Question Behind the Question"
date: {date}
author: your-name
tags: [customer service, listening]
summary: "Most questions customers ask are the first step of a plan. Good service answers the question, then the plan behind it."
draft: false
syndicate: true
---
A customer at a hardware store asks where the wall anchors are. The quick answer is
"aisle nine." The helpful answer is "aisle nine, and if you are hanging something heavy,
the toggle bolts are on the shelf below." The second answer takes four more seconds and
saves a second trip.

Most questions customers ask are the first step of a plan they have not told you about.
Someone asking about your return policy may really be asking whether it is safe to buy
the gift today. Someone asking when you close may be deciding whether to come in at all.
Good service listens for that plan.

## Three habits that help

1. **Answer first, then add one thing.** Give the direct answer before anything else,
   then offer the single most useful next step. One, not five.
2. **Ask a short follow-up.** "What is it for?" turns a question about where something
   is into a conversation that finds the right thing.
3. **Write down the repeats.** When the same hidden question comes up every week, fix
   the sign, the web page or the receipt so that nobody has to ask it again.

None of this needs a script or a budget. It needs people who are allowed to take an
extra moment, and who know that the goal is a customer who leaves with what they came
for, not only with the answer they asked for.
"""

ABOUT_PAGE = """\
---
title: "About"
summary: "Who writes this site, and how to reprint its articles."
---
This site publishes short, practical articles about serving customers well.

Every article may be reprinted free of charge in newsletters and on websites, as long as
it keeps the reprint statement shown at its end. Replace this page with a few lines about
yourself and your readers.
"""

GITIGNORE = """\
# Written by `syndicate build` and `syndicate serve`; never commit them.
output/
.syndicate-cache/
"""

NEW_ARTICLE = """\
---
title: {title}
date: {date}
author: {author}
tags: []
summary: ""
draft: true
---
{placeholder}
"""

# The Python every host builds with: the oldest the package supports, the one its own CI runs.
SITE_PYTHON = "3.11"

REQUIREMENTS = """\
# The release of syndicate that builds this site. GitHub Actions (.github/workflows/deploy.yml),
# Netlify and Cloudflare Pages all install it from this file; change the version here to upgrade.
{requirement}
"""

# Netlify installs requirements.txt with PYTHON_VERSION before running the command.
NETLIFY_TOML = f"""\
# Netlify: installs requirements.txt with the Python below, then checks and builds the site.
# Netlify builds on each push only: for articles dated in the future, trigger a build hook daily
# (the Deployment section of the syndicate README shows how).
[build]
  command = "syndicate check --strict && syndicate build"
  publish = "output"

[build.environment]
  PYTHON_VERSION = "{SITE_PYTHON}"
"""

# GitHub Pages: build on every push to main, by hand, and daily so scheduled articles appear on
# their day. `.syndicate-cache` is saved under a new key each run and the newest one restored,
# so every build starts from the last one's cache. setup-python's pip cache keys on requirements.txt.
DEPLOY_WORKFLOW = """\
# Checks, builds and publishes this site on GitHub Pages.
# Once: Settings > Pages > Source: "GitHub Actions", and set `url` in site.yaml to the site's
# address (https://<user>.github.io/<repository>/ for a project site).
name: Deploy site

on:
  push:
    branches: [main]
  workflow_dispatch:
  schedule:
    # Daily, so an article dated in the future goes live on its day without a push.
    - cron: "17 5 * * *"

permissions:
  contents: read
  pages: write
  id-token: write

# One deployment at a time; a running one finishes rather than being cancelled halfway.
concurrency:
  group: pages
  cancel-in-progress: false

jobs:
  build:
    runs-on: ubuntu-latest
    timeout-minutes: 30
    steps:
      - uses: actions/checkout@v6
        with:
          persist-credentials: false
      - uses: actions/setup-python@v6
        with:
          python-version: "PYTHON"
          cache: pip
      - name: Install syndicate (the release pinned in requirements.txt)
        run: pip install -r requirements.txt
      - name: Restore the incremental build cache
        uses: actions/cache@v6
        with:
          path: .syndicate-cache
          key: syndicate-cache-${{ runner.os }}-${{ github.run_id }}
          restore-keys: syndicate-cache-${{ runner.os }}-
      - name: Check content, configuration and attribution
        run: syndicate check --strict
      - name: Build
        run: syndicate build
      - uses: actions/configure-pages@v6
      - uses: actions/upload-pages-artifact@v5
        with:
          path: output

  deploy:
    needs: build
    runs-on: ubuntu-latest
    timeout-minutes: 10
    environment:
      name: github-pages
      url: ${{ steps.deployment.outputs.page_url }}
    steps:
      - id: deployment
        uses: actions/deploy-pages@v5
""".replace('"PYTHON"', f'"{SITE_PYTHON}"')

NEW_ISSUE = """\
---
title: {title}
date: {date}
{articles}
mode: full          # full: every article complete, with its statement; summary: title, byline and summary, linking to it
preheader: ""       # the line an inbox shows after the subject; empty: the introduction's opening words
draft: true         # built only by `serve` and `build --drafts` until you set it to false
---
<!-- Write the introduction here, in Markdown: it opens the issue, before the articles.
     Send yourself a test copy with: syndicate newsletter send {name} --to you@example.org -->
"""
