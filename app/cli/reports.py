"""``flask reports …``: the sales summary rows, recomputed from the orders or checked against them."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.program import rebuild

reports_cli = AppGroup("reports", help="Sales reports: summary rows.")


@reports_cli.command("rebuild")
def rebuild_command() -> None:
    """Recompute every sales summary row from the orders and offline sales."""
    counts = rebuild.rebuild()
    click.echo(
        f"Rebuilt: {counts['orders']} counted orders, {counts['daily']} daily rows, "
        f"{counts['products']} product rows."
    )


@reports_cli.command("verify")
def verify_command() -> None:
    """Compare the summary rows with the orders; exit 1 on any difference."""
    problems = rebuild.verify()
    for line in problems[:50]:
        click.echo(line)
    if problems:
        click.echo(f"{len(problems)} differences. Run `flask reports rebuild` to repair.")
        raise SystemExit(1)
    click.echo("The sales summary rows match the orders.")
