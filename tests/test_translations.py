"""The Persian catalogue: it covers every message in the sources, keeps their placeholders, and is
what the pages show.

Persian is the default language, so a message missing from ``translations/fa`` shows up in English
on a Persian page. When a test here fails, run ``make translations-update`` and translate the new
messages in ``translations/fa/LC_MESSAGES/messages.po``.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
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


# --- numbers inside messages ----------------------------------------------------------------------
#
# A number reaches a message through a placeholder. Persian pages show Persian digits, so every
# number the code passes must already be formatted for the reader (``format_number``,
# ``format_digits``, ``format_money``, ``format_date``, or the ``num``/``digits``/``money``/``date``
# template filters); a raw int would be shown as ``%s`` makes it: in Latin digits. The test
# reads every call of gettext/ngettext in app/ and templates/ with a placeholder, sees how each
# value is made, and renders the Persian message with sample values made the same way.

LATIN_DIGIT = re.compile(r"[0-9]")
GETTEXT_NAMES = {"_", "_l", "gettext", "lazy_gettext", "ngettext", "lazy_ngettext"}
PLURAL_NAMES = {"ngettext", "lazy_ngettext"}
# Calls and filters that give a number in the reader's digits.
PY_FORMATTERS = {
    "format_number", "format_digits", "format_money", "format_date", "persian_digits",
    "order_number", "LocalNumber", "percent", "format_rating",
}  # fmt: skip
JINJA_FORMATTERS = {"num", "digits", "money", "date", "rating"}
# Calls and filters that make a raw number out of something.
PY_NUMBER_CALLS = {"len", "int", "sum", "max", "min", "round", "abs", "float"}
JINJA_NUMBER_FILTERS = {"length", "count", "int", "round", "sum", "abs", "float"}
# Names whose value is text (titles, names, labels) or a string the caller already formatted.
TEXT_NAMES = {
    "title", "name", "display_name", "q", "reason", "status", "seller", "place", "county",
    "period", "value", "column", "columns", "known", "label", "new", "county_name",
    "province_name", "product_title", "hidden_reason", "numbers",  # notifications: order_numbers() writes them in the reader's digits
    "email", "address",  # e-mail addresses (Latin by nature)
    "word", "other", "corrected",  # search: the words of a synonym pair, a corrected query
    "shop_name",
}  # fmt: skip
# Literal Latin text that stays Latin in Persian: a file format's name, and the example that
# shows Latin digits are accepted too.
LATIN_ALLOWED = ("UTF-8", "UTF-16", "120000")

SAMPLE = 1234


@dataclass
class MessageUse:
    where: str
    msgid: str
    plural: str | None
    values: dict[str, str]  # placeholder -> "formatted" | "text" | "raw number"
    num: str | None  # how the count of an ngettext is given


def _py_kind(node: ast.expr) -> str:
    if isinstance(node, ast.Constant):
        return "raw number" if isinstance(node.value, int | float) else "text"
    if isinstance(node, ast.Call):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if name in PY_FORMATTERS:
            return "formatted"
        return "raw number" if name in PY_NUMBER_CALLS else "text"
    if isinstance(node, ast.BoolOp):
        return _py_kind(node.values[0])
    if isinstance(node, ast.IfExp):
        kinds = {_py_kind(node.body), _py_kind(node.orelse)}
        return "raw number" if "raw number" in kinds else kinds.pop()
    if isinstance(node, ast.Name | ast.Attribute):
        name = node.id if isinstance(node, ast.Name) else node.attr
        return "text" if name in TEXT_NAMES else "raw number"
    return "raw number"  # arithmetic, f-strings, subscripts: a number as Python writes it


def _python_uses() -> list[MessageUse]:
    uses = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.BinOp)
                and isinstance(node.op, ast.Mod)
                and isinstance(node.right, ast.Dict)
                and not isinstance(node.left, ast.Constant)
            ):
                # A message translated earlier and filled in here: ``str(message) % {...}``.
                values = {
                    k.value: _py_kind(v)
                    for k, v in zip(node.right.keys, node.right.values, strict=True)
                    if isinstance(k, ast.Constant)
                }
                msgid = " ".join(f"%({k})s" for k in values)
                uses.append(
                    MessageUse(f"{path.relative_to(ROOT)}:{node.lineno}", msgid, None, values, None)
                )
                continue
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name not in GETTEXT_NAMES or not node.args:
                continue
            texts = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if not texts or not isinstance(texts[0], str) or "%(" not in "".join(map(str, texts)):
                continue
            plural = name in PLURAL_NAMES
            values = {k.arg: _py_kind(k.value) for k in node.keywords if k.arg}
            num = None
            if plural:
                num = values.pop("num", None) or (
                    _py_kind(node.args[2]) if len(node.args) > 2 else "raw number"
                )
            uses.append(
                MessageUse(
                    f"{path.relative_to(ROOT)}:{node.lineno}",
                    texts[0],
                    texts[1] if plural and len(texts) > 1 else None,
                    values,
                    num,
                )
            )
    return uses


def _jinja_kind(node) -> str:  # type: ignore[no-untyped-def]
    from jinja2 import nodes

    if isinstance(node, nodes.Filter):
        if node.name in JINJA_FORMATTERS:
            return "formatted"
        if node.name in JINJA_NUMBER_FILTERS:
            return "raw number"
        return _jinja_kind(node.node) if node.name in {"e", "safe", "default"} else "text"
    if isinstance(node, nodes.Const):
        return "raw number" if isinstance(node.value, int | float) else "text"
    if isinstance(node, nodes.CondExpr):
        kinds = {_jinja_kind(node.expr1), _jinja_kind(node.expr2)}
        return "raw number" if "raw number" in kinds else kinds.pop()
    if isinstance(node, nodes.Call):
        name = getattr(node.node, "name", getattr(node.node, "attr", ""))
        return "formatted" if name in PY_FORMATTERS else "text"
    if isinstance(node, nodes.Name | nodes.Getattr):
        name = node.name if isinstance(node, nodes.Name) else node.attr
        return "text" if name in TEXT_NAMES else "raw number"
    return "raw number"


def _template_uses() -> list[MessageUse]:
    import jinja2
    from jinja2 import nodes

    env = jinja2.Environment(
        autoescape=True, extensions=["jinja2.ext.i18n", "jinja2.ext.do", "jinja2.ext.loopcontrols"]
    )
    uses = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        tree = env.parse(path.read_text(encoding="utf-8"))
        for call in tree.find_all(nodes.Call):
            name = getattr(call.node, "name", None)
            if name not in GETTEXT_NAMES or not call.args:
                continue
            texts = [a.value for a in call.args if isinstance(a, nodes.Const)]
            if not texts or "%(" not in "".join(map(str, texts)):
                continue
            plural = name in PLURAL_NAMES
            values = {k.key: _jinja_kind(k.value) for k in call.kwargs}
            num = None
            if plural:
                num = values.pop("num", None) or (
                    _jinja_kind(call.args[2]) if len(call.args) > 2 else "raw number"
                )
            uses.append(
                MessageUse(
                    f"{path.relative_to(ROOT)}:{call.lineno}",
                    texts[0],
                    texts[1] if plural and len(texts) > 1 else None,
                    values,
                    num,
                )
            )
    return uses


def _sample(kind: str) -> object:
    if kind == "formatted":
        return "۱٬۲۳۴"  # format_number(1234, "fa")
    if kind == "text":
        return "متن"
    return SAMPLE  # a raw int, as the code passes it


def test_every_number_in_a_message_is_shown_in_persian_digits(app) -> None:  # type: ignore[no-untyped-def]
    from flask_babel import force_locale, gettext, ngettext

    from app.core.formatting import LocalNumber

    uses = _python_uses() + _template_uses()
    assert len(uses) > 50, "the scan found the messages"
    problems = []
    with app.test_request_context("/"), force_locale("fa"):
        for use in uses:
            variables = {key: _sample(kind) for key, kind in use.values.items()}
            if use.plural is not None:
                # flask-babel fills %(num)s from the count: a LocalNumber writes itself in the
                # reader's digits, a plain int in Latin ones.
                count = LocalNumber(SAMPLE) if use.num == "formatted" else SAMPLE
                shown = ngettext(use.msgid, use.plural, count, **variables)
            else:
                shown = gettext(use.msgid, **variables)
            for allowed in LATIN_ALLOWED:
                shown = shown.replace(allowed, "")
            if LATIN_DIGIT.search(shown):
                raw = [
                    k for k, kind in {**use.values, "num": use.num}.items() if kind == "raw number"
                ]
                problems.append(f"{use.where}: {use.msgid[:60]!r} → {shown!r} (raw: {raw})")
    assert not problems, (
        "numbers shown in Latin digits on Persian pages; pass them through format_number / "
        "format_digits or the num/digits filters, and write Persian digits in the msgstr:\n"
        + "\n".join(problems)
    )


def test_import_messages_show_their_numbers_in_persian_digits(app) -> None:  # type: ignore[no-untyped-def]
    """The CSV import builds its messages later, from codes and the raw numbers of the row."""
    from flask_babel import force_locale

    from app.catalog import importer

    params = {"limit": 5000, "line": 12, "rows": 500, "column": "قیمت", "columns": "title",
              "known": "title", "value": "سفال", "name": "a.jpg", "reason": "corrupt"}  # fmt: skip
    problems = []
    with app.test_request_context("/"), force_locale("fa"):
        for code in importer.MESSAGES:
            shown = importer.describe(code, params)
            for allowed in LATIN_ALLOWED:
                shown = shown.replace(allowed, "")
            if LATIN_DIGIT.search(shown):
                problems.append(f"{code}: {shown!r}")
    assert not problems, "\n".join(problems)


def test_persian_messages_write_their_own_numbers_in_persian_digits(fa: Catalog) -> None:
    problems = []
    for message in entries(fa):
        for form in strings(message):
            text = NAMED.sub("", PERCENT.sub("", form or "")) if form else ""
            for allowed in LATIN_ALLOWED:
                text = text.replace(allowed, "")
            if LATIN_DIGIT.search(text):
                problems.append(f"{ids(message)[0]!r}: {form!r}")
    assert not problems, "Latin digits in Persian messages:\n" + "\n".join(problems)
