"""The one jinja2 environment shape every HTML page uses, so they share `base.html` and its look.

The landing page and the consent and error pages of `oauth/` all extend `base.html` from
`landing/templates`; a page's own folder comes first, so it can hold its own templates beside it.
Autoescaping is on for every template, whatever its file name: pages echo client names and URLs.
jinja2 is imported, and a template compiled, when a page is first served: the MCP endpoints never
need them, and loading them at start-up cost about a tenth of the gateway's start.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from jinja2 import Environment, Template

TEMPLATES_DIR: Final = Path(__file__).parent / "templates"
STATIC_DIR: Final = Path(__file__).parent / "static"


class Templates:
    """A page module's templates, looked up in `search_first`, then in `landing/templates`; the
    autoescaping environment is built on the first `get`, then kept."""

    def __init__(self, *search_first: Path) -> None:
        self._search_first = search_first

    @cached_property
    def _environment(self) -> Environment:
        from jinja2 import ChoiceLoader, Environment, FileSystemLoader

        loaders = [FileSystemLoader(path) for path in (*self._search_first, TEMPLATES_DIR)]
        return Environment(
            loader=ChoiceLoader(loaders),
            autoescape=True,
            auto_reload=False,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def get(self, name: str) -> Template:
        """The compiled template `name` (compiled once; the environment keeps it)."""
        return self._environment.get_template(name)


def static_url(public_path: str) -> str:
    """Where `landing/static` is served: `{PUBLIC_URL's path}/static`."""
    return f"{public_path}/static"
