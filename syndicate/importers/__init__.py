"""Importers: bring articles in from elsewhere into a syndicate site.

One module per source: `page.py` (single web pages and text copies), `jekyll.py`,
`hugo.py`, `pelican.py` and `wordpress.py` (whole sites, each read into a `SourceSite`).
What they share:

- `sitegen.py`: a `SourceSite` written into the site: front matter mapped, authors settled,
  unique slugs, the permalink pattern or aliases that keep every old address, the check of
  the result, the summary and the report;
- `common.py`: the site folder and its site.yaml (edited without losing the user's comments),
  author ids made from names, `import-report.md`;
- `articles.py` (our front matter, written) and `record.py` (the record that makes re-running
  safe and never overwrites someone's edits);
- `meta.py` (front-matter values in other generators' spellings), `sourcefiles.py` (their
  files and front matter), `dialect.py` (their Markdown made to read the same in ours),
  `htmltomd.py` (HTML bodies as Markdown), `wpautop.py` (WordPress's paragraphs);
- for `page.py`: `fetch.py`, `extract.py`, `htmlpage.py`, `textpage.py`, `markdown.py`, and
  `terms.py`, which lifts reprint terms and republish credits out of a page's text.

The core never imports this package; it is a tool that works on a site, not part of the
build.
"""
