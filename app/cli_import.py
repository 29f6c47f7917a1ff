"""``flask import-products``."""

import click


@click.command("import-products")
def import_products_command() -> None:
    """Import listings from a CSV file."""
    raise click.ClickException("not available yet")
