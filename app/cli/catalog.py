"""``flask import-products``: staff import a seller's listings from a CSV file, photos included."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask_babel import force_locale

from app.catalog import importer
from app.catalog.sellers import seller_by_slug


@click.command("import-products")
@click.option("--seller", "seller_slug", required=True, help="The seller's shop address (slug).")
@click.option(
    "--images",
    "images_dir",
    type=click.Path(exists=True, file_okay=False, dir_okay=True, path_type=Path),
    help="Folder holding the photo files the images column names.",
)
@click.option("--dry-run", is_flag=True, help="Check the file and report; save nothing.")
@click.argument(
    "csv_file", type=click.Path(exists=True, file_okay=True, dir_okay=False, path_type=Path)
)
def import_products_command(
    seller_slug: str, images_dir: Path | None, dry_run: bool, csv_file: Path
) -> None:
    """Import listings from CSV_FILE for one seller: all rows, or none if any row has errors.

    Errors are printed with the file's line numbers (the header is line 1) and the command exits
    with status 1 without saving anything.
    """
    with force_locale("en"):  # messages go through Babel; the console speaks English
        _import(seller_slug, images_dir, dry_run, csv_file)


def _import(seller_slug: str, images_dir: Path | None, dry_run: bool, csv_file: Path) -> None:
    seller = seller_by_slug(seller_slug)
    if seller is None:
        raise click.ClickException(f"No seller has the shop address {seller_slug!r}.")

    with csv_file.open("rb") as fh:
        data = fh.read(importer.MAX_FILE_BYTES + 1)
    try:
        rows = importer.parse_csv(data)
    except importer.ImportRejected as exc:
        raise click.ClickException(f"{csv_file}: {exc.message}") from exc

    if images_dir is None:
        if any(row.images for row in rows):
            raise click.ClickException(importer.describe("images_without_dir"))
        lookup: importer.ImageLookup = _no_images
    else:
        lookup = importer.directory_images(images_dir, current_app.config["MAX_IMAGE_BYTES"])

    plan = importer.validate(rows, seller, lookup)
    for row in plan.rows:
        for warning in row.warnings:
            click.echo(f"line {row.line}: note: {warning.message}")
    if not plan.ok:
        _fail(plan)
    if dry_run:
        click.echo(
            f"{len(plan.rows)} listings are ready to import "
            "(dry run: nothing saved; photos are decoded only when saving)."
        )
        return
    try:
        products = importer.save(plan, seller)
    except importer.ImportInvalid as exc:  # a photo the image pipeline refused
        _fail(exc.plan)
    except importer.ImportRejected as exc:
        raise click.ClickException(f"Nothing imported: {exc.message}") from exc
    click.echo(f"Imported {len(products)} listings.")


def _fail(plan: importer.ImportPlan) -> None:
    """Print every row error with its line number, then stop with exit status 1."""
    for row in plan.error_rows:
        for error in row.errors:
            click.echo(f"line {row.line}: {error.field}: {error.message}", err=True)
    raise click.ClickException(
        f"Nothing imported: {len(plan.error_rows)} of {len(plan.rows)} rows have errors."
    )


def _no_images(name: str) -> bytes | None:
    return None
