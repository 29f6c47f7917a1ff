"""The national e-commerce trust symbol (or any like it) in the footer: ``TRUST_BADGE_HTML``.

The symbol's issuer hands the operator a snippet of a link around an image. It is operator
configuration, not user input, but it still goes into every page, so it is parsed once when the
app is made and written out again from what was parsed: only ``<a>`` and ``<img>`` elements,
only the attributes below, addresses only ``https://``. Any other element (a script, a frame, a
style) makes the app refuse to start, with the reason; other attributes (``style``, event
handlers) are dropped. The images' origins are added to the ``img-src`` of the
Content-Security-Policy, which otherwise allows this site's pictures only.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

from flask import Flask
from markupsafe import Markup, escape

_ALLOWED = {
    "a": {"href", "title", "target", "rel", "referrerpolicy"},
    "img": {"src", "alt", "title", "width", "height", "referrerpolicy"},
}
_URLS = {"href", "src"}
_REFERRER = {"origin", "no-referrer", "strict-origin", "strict-origin-when-cross-origin"}
EXTENSION = "bazarche.trust_badge"
MAX_CHARS = 2000


def _https(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme != "https" or not parts.netloc:
        raise ValueError(f"TRUST_BADGE_HTML: only https:// addresses are allowed, not {value!r}")
    return value.strip()


class _Badge(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []
        self.origins: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED:
            raise ValueError(f"TRUST_BADGE_HTML: <{tag}> is not allowed (only <a> and <img>)")
        kept: list[tuple[str, str]] = []
        for name, value in attrs:
            if name not in _ALLOWED[tag] or value is None:
                continue
            if name in _URLS:
                value = _https(value)
                if tag == "img":
                    parts = urlsplit(value)
                    origin = f"https://{parts.netloc}"
                    if origin not in self.origins:
                        self.origins.append(origin)
            elif (
                name in ("width", "height")
                and not value.isdigit()
                or name == "target"
                and value != "_blank"
                or name == "referrerpolicy"
                and value not in _REFERRER
            ):
                continue
            elif name == "rel":
                continue  # written below
            kept.append((name, value))
        if tag == "a" and any(name == "target" for name, _value in kept):
            kept.append(("rel", "noopener"))
        text = "".join(f' {name}="{escape(value)}"' for name, value in kept)
        self.out.append(f"<{tag}{text}>")
        if tag == "a":
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "img":
            return
        if tag not in _ALLOWED or not self.open:
            raise ValueError(f"TRUST_BADGE_HTML: unexpected </{tag}>")
        self.open.pop()
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.out.append(str(escape(data)))

    def handle_comment(self, data: str) -> None:
        pass

    def unknown_decl(self, data: str) -> None:
        raise ValueError("TRUST_BADGE_HTML: declarations are not allowed")


def parse_badge(snippet: str) -> tuple[Markup, list[str]]:
    """The snippet written out again from its allowed parts, and its images' origins; raises
    ValueError (with the reason) for anything else."""
    snippet = snippet.strip()
    if not snippet:
        return Markup(""), []
    if len(snippet) > MAX_CHARS:
        raise ValueError(f"TRUST_BADGE_HTML: at most {MAX_CHARS} characters")
    parser = _Badge()
    parser.feed(snippet)
    parser.close()
    parser.out.extend("</a>" for _tag in parser.open)  # close what the snippet left open
    # Written by _Badge from allowed elements only, every value and text escaped.
    return Markup("".join(parser.out)), parser.origins  # noqa: S704


def install(app: Flask) -> None:
    """Parse ``TRUST_BADGE_HTML`` once (refusing to start on a snippet that is not allowed) and
    give templates ``trust_badge()``."""
    markup, origins = parse_badge(app.config.get("TRUST_BADGE_HTML") or "")
    app.extensions[EXTENSION] = (markup, origins)
    app.jinja_env.globals["trust_badge"] = lambda: markup


def image_origins(app: Flask) -> list[str]:
    """The origins the trust badge's images come from (for the CSP's ``img-src``)."""
    return app.extensions.get(EXTENSION, (None, []))[1]
