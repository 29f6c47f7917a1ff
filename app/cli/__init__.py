"""Flask commands, one module per command group; each command is a thin shell over a service."""

from __future__ import annotations

from flask import Flask

from app.cli.accounts import assist_seller_command, create_staff_command
from app.cli.catalog import import_products_command
from app.cli.demo import seed_demo_command
from app.cli.jobs import jobs_cli
from app.cli.payments import register as register_payment_commands
from app.cli.payouts import payouts_cli
from app.cli.reports import reports_cli
from app.cli.search import search_cli
from app.cli.sms import sms_cli


def register(app: Flask) -> None:
    for command in (
        seed_demo_command,
        create_staff_command,
        assist_seller_command,
        search_cli,
        import_products_command,
        reports_cli,
        payouts_cli,
        jobs_cli,
        sms_cli,
    ):
        app.cli.add_command(command)
    register_payment_commands(app)
