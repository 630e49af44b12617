"""The one jinja2 environment shape every HTML page uses, so they share `base.html` and its look.

The landing page and the consent and error pages of `oauth/` all extend `base.html` from
`landing/templates`; a page's own folder comes first, so it can hold its own templates beside it.
Autoescaping is on for every template, whatever its file name: pages echo client names and URLs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from jinja2 import ChoiceLoader, Environment, FileSystemLoader

TEMPLATES_DIR: Final = Path(__file__).parent / "templates"
STATIC_DIR: Final = Path(__file__).parent / "static"


def template_environment(*search_first: Path) -> Environment:
    """An autoescaping environment that looks in `search_first`, then in `landing/templates`."""
    loaders = [FileSystemLoader(path) for path in (*search_first, TEMPLATES_DIR)]
    return Environment(
        loader=ChoiceLoader(loaders),
        autoescape=True,
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def static_url(public_path: str) -> str:
    """Where `landing/static` is served: `{PUBLIC_URL's path}/static`."""
    return f"{public_path}/static"
