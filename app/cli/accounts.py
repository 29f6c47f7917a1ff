"""``flask create-staff``: a staff account from the command line."""

from __future__ import annotations

import click

from app.accounts.services import MIN_PASSWORD_LENGTH, create_staff
from app.core.errors import ValidationFailed


@click.command("create-staff")
@click.argument("email")
@click.option("--name", default="", help="Display name.")
@click.option("--generate", is_flag=True, help="Generate a password instead of asking for one.")
def create_staff_command(email: str, name: str, generate: bool) -> None:
    """Create a staff account (or make an existing account staff)."""
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
