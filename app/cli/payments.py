"""``flask orders …`` and ``flask payments …`` commands; each is a thin shell over a service."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from app.catalog import stock_alerts
from app.orders.completion import complete_due
from app.payments.online import expire_all, reconcile_all
from app.payments.services import PaymentUnavailable, init_app

orders_cli = AppGroup("orders", help="Orders: housekeeping run from cron.")
payments_cli = AppGroup("payments", help="Online payments: catching up with the providers.")


def register(app: Flask) -> None:
    app.cli.add_command(orders_cli)
    app.cli.add_command(payments_cli)
    init_app(app)  # the start-up word on card payments (idempotent)


@orders_cli.command("expire")
@click.option("--limit", default=500, show_default=True, help="At most this many per run.")
def expire_command(limit: int) -> None:
    """Cancel unpaid online checkouts past their time; their stock goes back once."""
    expired = expire_all(limit=limit)
    stock_alerts.send_restocked()  # their stock came back: tell who waits for it
    click.echo(f"Expired {expired} unpaid card checkouts.")


@orders_cli.command("complete-due")
@click.option("--limit", default=500, show_default=True, help="At most this many per run.")
def complete_due_command(limit: int) -> None:
    """Complete shipped orders whose receipt window (RECEIPT_WINDOW_DAYS) ran out unconfirmed;
    each in its own transaction, safe to run again or twice at once."""
    click.echo(f"Completed {complete_due(limit=limit)} orders.")


@payments_cli.command("reconcile")
@click.option(
    "--older-than",
    "older_than",
    default=15,
    show_default=True,
    type=click.IntRange(min=0),
    help="Ask the providers about online payments still waiting after this many minutes.",
)
def reconcile_command(older_than: int) -> None:
    """Ask each provider about payments whose notice or return never came (Stripe's webhooks,
    the bank gateway's unverified list and pending authorities), and finish refunds owed."""
    try:
        counts = reconcile_all(older_than)
    except PaymentUnavailable as exc:
        raise click.ClickException("Online payments are off (see the start-up log).") from exc
    stock_alerts.send_restocked()
    summary = ", ".join(f"{name}: {n}" for name, n in sorted(counts.items())) or "nothing to do"
    click.echo(f"Reconciled: {summary}.")
