"""The Persian catalogue: it covers every message in the sources, keeps their placeholders, and is
what the pages show.

Persian is the default language, so a message missing from ``translations/fa`` shows up in English
on a Persian page. When a test here fails, run ``make translations-update`` and translate the new
messages in ``translations/fa/LC_MESSAGES/messages.po``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po
from flask_babel import refresh

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
FA_PO = TRANSLATIONS / "fa" / "LC_MESSAGES" / "messages.po"
HINT = (
    "run `make translations-update` and translate the new messages in "
    "translations/fa/LC_MESSAGES/messages.po"
)

# printf-style conversions (with "%%"), for messages flagged python-format
PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa%]")
# named conversions only, for the other messages (a lone "%" there is just text)
NAMED = re.compile(r"%\([^)]*\)[-#0 +]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa]")
# str.format-style fields such as {percent}
BRACE = re.compile(r"\{\w*\}")


def pybabel(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the virtualenv's ``pybabel`` (next to the running Python) from the project root."""
    exe = Path(sys.executable).with_name("pybabel")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", _PYBABEL_MAIN]
    result = subprocess.run(
        [*cmd, *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=300
    )
    assert result.returncode == 0, f"pybabel {' '.join(args)} failed:\n{result.stderr}"
    return result


_PYBABEL_MAIN = "import sys; from babel.messages.frontend import main; sys.exit(main())"


def load(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f)


@pytest.fixture(scope="module")
def fa() -> Catalog:
    return load(FA_PO)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The messages of the sources now, extracted as ``make translations-update`` does."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    pybabel(
        "extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext",
        "-o", str(pot), "--no-location", "--sort-output", ".",
    )  # fmt: skip
    return load(pot)


def strings(message: Message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def ids(message: Message) -> tuple[str, ...]:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def placeholders(text: str, python_format: bool) -> Counter[str]:
    found = (PERCENT if python_format else NAMED).findall(text) + BRACE.findall(text)
    return Counter(found)


def entries(catalog: Catalog) -> Iterable[Message]:
    return (m for m in catalog if m.id)


def test_persian_catalogue_has_one_plural_form(fa: Catalog) -> None:
    assert fa.locale is not None and str(fa.locale) == "fa"
    assert fa.plural_forms == "nplurals=1; plural=0;"


def test_every_source_message_is_translated_to_persian(extracted: Catalog, fa: Catalog) -> None:
    problems = []
    for message in entries(extracted):
        entry = fa.get(message.id, message.context)
        label = repr(ids(message)[0])
        if entry is None:
            problems.append(f"missing: {label}")
        elif isinstance(entry.id, tuple) != isinstance(message.id, tuple):
            problems.append(f"singular/plural changed: {label}")
        elif entry.fuzzy:
            problems.append(f"fuzzy: {label}")
        elif not all(s.strip() for s in strings(entry)):
            problems.append(f"not translated: {label}")
    assert not problems, f"{len(problems)} message(s) need work; {HINT}:\n" + "\n".join(problems)


def test_no_fuzzy_or_empty_persian_entries(fa: Catalog) -> None:
    bad = [
        repr(ids(m)[0]) for m in entries(fa) if m.fuzzy or not all(s.strip() for s in strings(m))
    ]
    assert not bad, f"fuzzy or empty entries in {FA_PO.name}; {HINT}:\n" + "\n".join(bad)


def test_persian_keeps_the_placeholders_of_each_message(fa: Catalog) -> None:
    problems = []
    for message in entries(fa):
        python_format = "python-format" in message.flags
        sources = [placeholders(text, python_format) for text in ids(message)]
        for form in strings(message):
            if not form:
                continue  # reported by the coverage tests
            got = placeholders(form, python_format)
            if len(sources) == 1:
                ok = got == sources[0]
            else:
                # ngettext: a form may drop a field (e.g. the count when it is one), never
                # invent one; with one plural form the text stands for every count, like the
                # plural msgid.
                allowed = set().union(*sources)
                ok = set(got) <= allowed and (
                    len(strings(message)) > 1 or set(got) >= set(sources[-1])
                )
            if not ok:
                want = " / ".join(", ".join(sorted(s)) or "none" for s in sources)
                have = ", ".join(sorted(got)) or "none"
                problems.append(f"{ids(message)[0]!r}: msgid has {want}; msgstr has {have}")
    assert not problems, "placeholders differ:\n" + "\n".join(problems)


def test_pages_are_served_from_the_compiled_catalogues(client, fa: Catalog) -> None:  # type: ignore[no-untyped-def]
    pybabel("compile", "-d", "translations")  # idempotent; `make translations` does the same

    html = client.get("/").get_data(as_text=True)
    for msgid in ("Skip to content", "Search products", "Log in", "Register"):
        persian = fa[msgid].string
        assert persian and persian in html, f"the home page lacks the Persian for {msgid!r}"
    assert "Skip to content" not in html
    assert "رفتن به محتوای اصلی" in html

    # The fixtures keep one app context (and ``g``) across requests, and the page cache reads the
    # locale before the fixtures give the request a fresh ``g``: forget the remembered locale.
    refresh()
    client.set_cookie("locale", "en")
    english = client.get("/").get_data(as_text=True)
    assert "Skip to content" in english
    assert fa["Skip to content"].string not in english
