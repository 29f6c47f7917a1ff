"""Bulk import of listings from a CSV file: parse, validate, then save every row or none.

Three steps, each usable on its own (the seller area previews between 2 and 3, the command line
goes straight through):

1. :func:`parse_csv` turns the uploaded bytes into :class:`RowInput` values. Problems with the
   file as a whole (not UTF-8, binary data, broken quoting, unknown or missing columns, too many
   rows, a huge field) raise :class:`ImportRejected`; nothing else escapes, whatever the bytes.
2. :func:`validate` checks every row against the listing rules and the catalogue and returns an
   :class:`ImportPlan`: each row with its physical line number in the file (the header is line 1)
   and its errors. It reads the database and changes nothing.
3. :func:`save` creates every listing of a plan without errors in one transaction, or raises
   and creates none.

The steps live in :mod:`.parsing` (the file format), :mod:`.validation` (the listing rules and
the catalogue) and :mod:`.saving`; :mod:`.rows` holds the values passed between them and the
messages. This package's names are the import's interface.

**File format.** UTF-8 (a byte-order mark is accepted and dropped), comma separated (a header
line separated by ``;`` or tabs switches the delimiter, as some spreadsheet locales export).
Header names are English or Persian and are matched after folding case, spaces, ZWNJ and
punctuation, and the Arabic letters ي/ك to Persian ی/ک (see :data:`HEADER_ALIASES`). ``title``
and ``price`` are required columns; an unknown column is refused rather than silently dropped,
so a misspelt ``stock`` header cannot import every row with the default stock. Prices are in
**toman**, as in the listing form, and stored in rials (× 10). Numbers may use Persian digits and
group separators.

**Options and variants.** A listing with options has one row per variant: the listing's
columns repeated (the first row's count), ``option1_name``/``option1_value`` up to
``option3_*`` naming the variant, and the row's ``price``, ``stock``, ``sku`` and
``sale_price`` the variant's. Rows with options and the same title are one listing (the title is
the format's listing key, as the duplicate-title warnings already read it); they are checked
together through :func:`app.catalog.variants.check` and saved through
:func:`app.catalog.variants.apply`, their errors shown on the row they concern. A file without
these columns reads as before. :func:`export_rows` writes the seller's listings in this format.

**Photos.** Rows name photo files in the ``images`` column, separated by ``;``, ``|`` or ``،``.
The caller passes an ``image_lookup`` (file name → bytes, or ``None`` when missing): the command
line passes :func:`directory_images` over its ``--images DIR``. The seller area passes ``None``:
a browser cannot send a folder of photos together with the file without the preview having to
keep those photos between two requests, so the web import accepts no photo names, and since the
publish rules need a photo, the web import creates drafts; sellers add photos to each listing in
the listing editor and publish from there. Photos are stored through the catalogue's one photo service
(:func:`app.catalog.photos.store_picture`, as uploads are) before the database transaction
starts.

**The seller area's two requests.** Between the preview and the confirmation the file waits in
the database (:mod:`.pending`: :func:`keep_pending`, :func:`claim_pending`), so the confirmation
may reach any web machine.

**Messages.** Errors carry a stable ``code`` and parameters; :func:`describe` turns them into
text through Flask-Babel, so the seller area and the command line show the same sentences.
"""

from app.catalog.importer.exporting import export_rows
from app.catalog.importer.parsing import (
    FIELDS,
    HEADER_ALIASES,
    MAX_FIELD_CHARS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    PERSIAN_HEADERS,
    parse_csv,
    sample_rows,
)
from app.catalog.importer.pending import PENDING_MAX_AGE, claim_pending, keep_pending
from app.catalog.importer.rows import (
    MESSAGES,
    ImageLookup,
    ImportInvalid,
    ImportPlan,
    ImportRejected,
    PlannedRow,
    RowError,
    RowInput,
    describe,
)
from app.catalog.importer.saving import save
from app.catalog.importer.validation import directory_images, is_plain_file_name, validate

__all__ = [
    "FIELDS",
    "HEADER_ALIASES",
    "MAX_FIELD_CHARS",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "MESSAGES",
    "PENDING_MAX_AGE",
    "PERSIAN_HEADERS",
    "ImageLookup",
    "ImportInvalid",
    "ImportPlan",
    "ImportRejected",
    "PlannedRow",
    "RowError",
    "RowInput",
    "claim_pending",
    "describe",
    "directory_images",
    "export_rows",
    "is_plain_file_name",
    "keep_pending",
    "parse_csv",
    "sample_rows",
    "save",
    "validate",
]
