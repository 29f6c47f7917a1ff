"""``flask seed-demo``: the Persian demo market (the only importer of :mod:`app.demo`)."""

from __future__ import annotations

from collections.abc import Callable

import click
import sqlalchemy as sa

from app.catalog import indexing, photos
from app.catalog.models import Product
from app.core.extensions import db
from app.demo.seed import DEMO_PASSWORD, seed_demo
from app.media.art import draw_logo, draw_product_art
from app.media.store import storage
from app.search import SearchError


@click.command("seed-demo")
@click.option("--sellers", default=28, show_default=True, help="How many demo sellers.")
@click.option("--products-per-seller", default=8, show_default=True)
@click.option("--no-images", is_flag=True, help="Skip drawing photos (faster).")
@click.option("--if-empty", is_flag=True, help="Do nothing when the market already has products.")
def seed_demo_command(
    sellers: int, products_per_seller: int, no_images: bool, if_empty: bool
) -> None:
    """Load the Persian demo market (idempotent: only missing rows are added)."""
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
            f"{created['reviews']} reviews, {created['view_rows']} days of product views."
        )
    try:
        click.echo(f"Search index: {indexing.reindex()} products indexed.")
    except (SearchError, OSError) as exc:  # the demo data is saved; search uses the database
        click.echo(f"Search index not built ({exc}); run: flask search sync", err=True)
    click.echo(f"Demo accounts use the password {DEMO_PASSWORD!r}:")
    click.echo("  staff@bazarche.example, customer@bazarche.example, seller1@bazarche.example …")


def demo_image_maker() -> Callable[[str, str, int], tuple[str, list, int, int]]:
    """Draw a picture, store it through the photo service as an upload is, and return what the
    photo row (or, for ``kind`` "logo", the seller's logo key) keeps."""
    store = storage()

    def make(title: str, kind: str, seed: int) -> tuple[str, list, int, int]:
        if kind == "logo":
            stored = photos.store_picture(draw_logo(seed), store, widths=photos.LOGO_WIDTHS)
            return stored.largest.key, [], stored.width, stored.height
        raw = draw_product_art(title, seed=seed, kind=kind, size=(960, 720))
        stored = photos.store_picture(raw, store)
        return stored.largest.key, photos.variant_list(stored), stored.width, stored.height

    return make
