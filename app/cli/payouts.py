"""``flask payouts …``: checks of the sellers' ledger; a thin shell over app.payouts."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.core.db import transaction
from app.payouts import ledger

payouts_cli = AppGroup("payouts", help="Sellers' ledger and payouts.")


@payouts_cli.command("verify")
def verify_command() -> None:
    """Check, for every seller, that the ledger's balance equals sales − commission − refunds −
    cash kept − payouts computed from the orders and batches. Exit code 1 and a list otherwise."""
    with transaction(write=False):
        bad = ledger.verify()
    if not bad:
        click.echo("The ledger holds for every seller.")
        return
    for mismatch in bad:
        click.echo(mismatch.describe())
    raise SystemExit(1)
