"""``flask reports …``: the sales summary rows, recomputed from the orders or checked against them;
the fair-price hints, rebuilt from the listings."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.notifications.digests import send_warning_digests
from app.program import price_hints, rebuild, self_dealing

reports_cli = AppGroup("reports", help="Sales reports and fair-price hints: summary rows.")


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


@reports_cli.command("price-hints")
def price_hints_command() -> None:
    """Rebuild the fair-price hints (asking prices per category and county) from the listings."""
    kept = price_hints.refresh()
    click.echo(f"Rebuilt {kept} price hint rows.")


@reports_cli.command("warning-digest")
def warning_digest_command() -> None:
    """Send each county officer the early-warning digest of their county now (the scheduler
    sends it every Saturday morning)."""
    send_warning_digests()
    click.echo("Early-warning digests sent.")


@reports_cli.command("flag-self-dealing")
def flag_self_dealing_command() -> None:
    """Check every counted online order for self-dealing (buyer and seller sharing a phone, an
    address or a card); orders already flagged or decided are left as they are."""
    flagged = self_dealing.flag_all()
    click.echo(f"Flagged {flagged} orders for staff to decide.")
