"""The tiny markup of the market's pages, rendered to safe HTML.

A body is plain text. A line starting with ``## `` is a heading, lines starting with ``- `` are a
list, other lines are a paragraph (its line breaks kept) that a blank line ends. ``[text](address)`` is a link when the address is ``https://…``, ``mailto:…``, ``tel:…``
or a path on this site (``/returns``); anything else stays text. Every piece of text is escaped:
what staff type can never become HTML of its own.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_LINK = re.compile(r"\[([^\[\]\n]{1,200})\]\(([^()\s]{1,500})\)")
_SAFE_TARGET = re.compile(
    r"^(https://[^\s\"'<>]+|mailto:[^\s\"'<>/]+|tel:\+?[0-9۰-۹ \-]+|/(?!/)[^\s\"'<>]*)$"
)


def _inline(text: str) -> Markup:
    out = Markup()
    last = 0
    for match in _LINK.finditer(text):
        label, target = match.group(1), match.group(2)
        if not _SAFE_TARGET.match(target):
            continue
        out += escape(text[last : match.start()])
        external = target.startswith("https://")
        rel = Markup(' rel="noopener"') if external else Markup()
        out += Markup('<a href="{0}"{1}>{2}</a>').format(target, rel, label)
        last = match.end()
    return out + escape(text[last:])


def _kind(line: str) -> str:
    if line.startswith("## "):
        return "heading"
    return "item" if line.startswith("- ") else "text"


def _block(lines: list[str]) -> Markup:
    """A block's lines as runs of one kind each: a heading, a list, a paragraph."""
    out = Markup()
    runs: list[tuple[str, list[str]]] = []
    for line in lines:
        kind = _kind(line)
        if runs and runs[-1][0] == kind and kind != "heading":
            runs[-1][1].append(line)
        else:
            runs.append((kind, [line]))
    for kind, run in runs:
        if kind == "heading":
            out += Markup("<h2>{0}</h2>").format(_inline(run[0][3:].strip()))
        elif kind == "item":
            items = Markup("").join(
                Markup("<li>{0}</li>").format(_inline(line[2:].strip())) for line in run
            )
            out += Markup("<ul>{0}</ul>").format(items)
        else:
            body = Markup("<br>\n").join(_inline(line) for line in run)
            out += Markup("<p>{0}</p>").format(body)
    return out


def render_body(text: str) -> Markup:
    """``text`` (the page's body as typed) as HTML."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            blocks[-1].append(line.strip())
        elif blocks[-1]:
            blocks.append([])
    return Markup("\n").join(_block(block) for block in blocks if block)
