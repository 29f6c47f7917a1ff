"""``flask create-staff``: a staff account from the command line (province staff, a county officer
or a support organisation's staff); ``flask assist-seller``: the support organisation that
assists a seller."""

from __future__ import annotations

import click

from app.accounts.services import MIN_PASSWORD_LENGTH, create_staff
from app.catalog import scope as scopes
from app.core.db import database_id
from app.core.errors import NotFound, ValidationFailed


@click.command("create-staff")
@click.argument("email")
@click.option("--name", default="", help="Display name.")
@click.option("--generate", is_flag=True, help="Generate a password instead of asking for one.")
@click.option("--county", default="", help="A county officer of this county (its slug).")
@click.option(
    "--organisation", default="", help="Staff of this support organisation (made if new)."
)
def create_staff_command(
    email: str, name: str, generate: bool, county: str, organisation: str
) -> None:
    """Create a staff account (or make an existing account staff): province staff, or with
    --county a county officer who sees that county's sellers only, or with --organisation the
    staff of a training centre or NGO who see the sellers it assists."""
    if county and organisation:
        raise click.ClickException("Give --county or --organisation, not both.")
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
    try:
        scope = scopes.set_scope(
            user, county_slug=county or None, organisation=organisation or None
        )
    except ValidationFailed as exc:
        raise click.ClickException(f"No scope set: {exc.errors}.") from exc
    where = (
        f"county officer ({county})"
        if scope.county_id
        else f"staff of {organisation}"
        if scope.organisation_id
        else "province staff"
    )
    click.echo(f"Staff account ready: {user.email}, {where}")
    if password is None:
        click.echo(f"Generated password: {used}")


@click.command("assist-seller")
@click.argument("seller")
@click.argument("organisation", default="")
def assist_seller_command(seller: str, organisation: str) -> None:
    """Name the support organisation that assists seller SELLER (its id, any digits; made if
    new); no name: none."""
    seller_id = database_id(seller)
    if seller_id is None:
        raise click.ClickException(f"{seller!r} is not a seller's id.")
    try:
        scopes.assign_organisation(seller_id, organisation or None)
    except NotFound as exc:
        raise click.ClickException(f"There is no seller {seller_id}.") from exc
    except ValidationFailed as exc:
        raise click.ClickException(f"Not changed: {exc.errors}.") from exc
    click.echo(f"Seller {seller_id}: assisted by {organisation or 'no organisation'}.")
