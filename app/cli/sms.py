"""``flask sms …``: try the SMS provider the settings name."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.notifications import sms_gateway

sms_cli = AppGroup("sms", help="Text messages: try the provider.")


@sms_cli.command("send")
@click.argument("number")
@click.argument("text")
def send_command(number: str, text: str) -> None:
    """Send TEXT to the mobile NUMBER now, through SMS_BACKEND (not the queue), and print the
    provider's message id: a check of the provider's settings."""
    try:
        message_id = sms_gateway.backend().send(number, text)
    except sms_gateway.SmsFailed as failed:
        hint = "it may pass later" if failed.retry else "it will not pass as it is"
        raise click.ClickException(f"not sent ({failed.code}: {failed.detail}); {hint}") from None
    click.echo(f"sent: {message_id}")
