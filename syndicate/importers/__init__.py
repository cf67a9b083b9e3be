"""Importers: bring articles in from elsewhere into a syndicate site.

Each source has its own module (`page.py` for single web pages; Jekyll, Hugo, Pelican and
WordPress importers belong beside it) and they share `common.py`: the site folder and its
site.yaml (edited without losing the user's comments), author ids made from names,
articles written with our front matter, the record that makes re-running safe, and
`import-report.md`, where everything that needs a human is written down.

The core never imports this package; it is a tool that works on a site, not part of the
build. `terms.py` lifts reprint terms and republish credits out of a page's text.
"""
