"""Flask commands. Each is a thin shell over a service."""

from __future__ import annotations

import click
from flask import Flask, current_app


def register(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_staff_command)
    app.cli.add_command(search_cli)
    from app.cli_import import import_products_command

    app.cli.add_command(import_products_command)
    from app.cli_payments import register as register_payment_commands

    register_payment_commands(app)
    from app.cli_reports import reports_cli

    app.cli.add_command(reports_cli)


@click.command("seed-demo")
@click.option("--sellers", default=28, show_default=True, help="How many demo sellers.")
@click.option("--products-per-seller", default=8, show_default=True)
@click.option("--no-images", is_flag=True, help="Skip drawing photos (faster).")
@click.option("--if-empty", is_flag=True, help="Do nothing when the market already has products.")
def seed_demo_command(
    sellers: int, products_per_seller: int, no_images: bool, if_empty: bool
) -> None:
    """Load the Persian demo market (idempotent: only missing rows are added)."""
    import sqlalchemy as sa

    from app.catalog.models import Product
    from app.extensions import db
    from app.program.demo import DEMO_PASSWORD, seed_demo

    if if_empty and db.session.scalar(sa.select(Product.id).limit(1)) is not None:
        click.echo("The market already has products; demo data not loaded.")
        return

    make_image = None if no_images else demo_image_maker()
    created = seed_demo(
        make_image,
        sellers=sellers,
        products_per_seller=products_per_seller,
        progress=lambda msg: click.echo(f"  {msg}"),
    )
    click.echo(f"Demo data: {created['sellers']} sellers and {created['products']} products added.")
    if created["orders"]:
        click.echo(
            f"Demo sales: {created['orders']} orders, {created['offline_sales']} offline sales, "
            f"{created['view_rows']} days of product views."
        )
    from app.catalog import indexing
    from app.search import SearchError

    try:
        click.echo(f"Search index: {indexing.reindex()} products indexed.")
    except (SearchError, OSError) as exc:  # the demo data is saved; search uses the database
        click.echo(f"Search index not built ({exc}); run: flask search sync", err=True)
    click.echo(f"Demo accounts use the password {DEMO_PASSWORD!r}:")
    click.echo("  staff@bazarche.example, customer@bazarche.example, seller1@bazarche.example …")


def demo_image_maker():  # type: ignore[no-untyped-def]
    """Draw a picture, run it through the upload pipeline, return what ProductImage stores."""
    from app.media.art import draw_logo, draw_product_art
    from app.media.images import process_image
    from app.media_store import storage

    store = storage()
    max_bytes = current_app.config["MAX_IMAGE_BYTES"]
    max_pixels = current_app.config["MAX_IMAGE_PIXELS"]

    def make(title: str, kind: str, seed: int) -> tuple[str, list, int, int]:
        if kind == "logo":
            raw = draw_logo(seed)
            stored = process_image(
                raw, store, max_bytes=max_bytes, max_pixels=max_pixels, widths=(256,)
            )
            return stored.variants[-1].key, [], stored.width, stored.height
        raw = draw_product_art(title, seed=seed, kind=kind, size=(960, 720))
        stored = process_image(raw, store, max_bytes=max_bytes, max_pixels=max_pixels)
        variants = [[v.width, v.height, v.key] for v in stored.variants]
        return variants[-1][2], variants, stored.width, stored.height

    return make


@click.command("create-staff")
@click.argument("email")
@click.option("--name", default="", help="Display name.")
@click.option("--generate", is_flag=True, help="Generate a password instead of asking for one.")
def create_staff_command(email: str, name: str, generate: bool) -> None:
    """Create a staff account (or make an existing account staff)."""
    from app.accounts.services import MIN_PASSWORD_LENGTH, create_staff
    from app.errors import ValidationFailed

    password = None
    if not generate:
        password = (
            click.prompt(
                f"Password (at least {MIN_PASSWORD_LENGTH} characters; empty to generate one)",
                hide_input=True,
                confirmation_prompt=True,
                default="",
                show_default=False,
            )
            or None
        )
    try:
        user, used = create_staff(email, password, name)
    except ValidationFailed as exc:
        reasons = {
            "too_short": f"the password needs at least {MIN_PASSWORD_LENGTH} characters",
            "too_long": "the password is too long",
            "email_invalid": "that is not a valid e-mail address",
        }
        text = "; ".join(reasons.get(c, c) for codes in exc.errors.values() for c in codes)
        raise click.ClickException(f"Not created: {text}.") from exc
    click.echo(f"Staff account ready: {user.email}")
    if password is None:
        click.echo(f"Generated password: {used}")


@click.group("search")
def search_cli() -> None:
    """The product search index."""


@search_cli.command("sync")
def search_sync_command() -> None:
    """Index every product marked dirty; rebuild the index from the database instead when it is
    missing, marked degraded or has lost products (run it from cron every few minutes)."""
    from app.catalog import indexing
    from app.search import IndexBusy, SearchError

    indexing.forget_index_check()
    problem = indexing.index_problem()
    if problem is not None:
        click.echo(f"The index cannot be trusted ({problem}); rebuilding it from the database.")
    try:
        indexed, removed = indexing.sync_dirty()
    except IndexBusy as exc:
        raise click.ClickException("The index is busy; try again in a moment.") from exc
    except (SearchError, OSError) as exc:
        raise click.ClickException(f"The index could not be repaired: {exc}") from exc
    if problem is not None:
        click.echo(f"Rebuilt the index: {indexed} products.")
    else:
        click.echo(f"Indexed {indexed} products, removed {removed}.")


@search_cli.command("reindex")
def search_reindex_command() -> None:
    """Rebuild the index from the database into a new directory and swap it in."""
    from app.catalog import indexing

    click.echo(f"Indexed {indexing.reindex()} products.")


@search_cli.command("verify")
def search_verify_command() -> None:
    """Report products missing from the index, extra in it, or stale. Exit 1 when not clean."""
    from app.catalog import indexing
    from app.search import IndexUnavailable

    indexing.forget_index_check()
    problem = indexing.index_problem()
    if problem is not None:
        raise click.ClickException(
            f"The index cannot be trusted: {problem}. Run: flask search sync (it rebuilds "
            "the index) or flask search reindex"
        )
    try:
        report = indexing.verify()
    except IndexUnavailable as exc:
        raise click.ClickException(
            f"The index is unavailable: {exc}. Run: flask search reindex"
        ) from exc
    for kind in ("missing", "extra", "stale"):
        ids = report[kind]
        click.echo(f"{kind}: {len(ids)}" + (f" ({', '.join(map(str, ids[:20]))}…)" if ids else ""))
    if any(report.values()):
        raise SystemExit(1)
    click.echo("The index matches the database.")
