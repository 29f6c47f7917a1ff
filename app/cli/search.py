"""``flask search …``: keep the product index in step with the database, rebuild it, check it."""

from __future__ import annotations

import click

from app.catalog import indexing
from app.search import IndexBusy, IndexUnavailable, SearchError


@click.group("search")
def search_cli() -> None:
    """The product search index."""


@search_cli.command("sync")
def search_sync_command() -> None:
    """Index every product marked dirty; rebuild the index from the database instead when it is
    missing, marked degraded or has lost products (run it from cron every few minutes)."""
    indexing.forget_index_check()
    problem = indexing.index_problem()
    if problem is not None:
        click.echo(f"The index cannot be trusted ({problem}); rebuilding it from the database.")
    try:
        indexed, removed = indexing.sync_dirty()
    except IndexBusy as exc:
        raise click.ClickException("The index is busy; try again in a moment.") from exc
    except (SearchError, OSError) as exc:
        raise click.ClickException(f"The index could not be repaired: {exc}") from exc
    if problem is not None:
        click.echo(f"Rebuilt the index: {indexed} products.")
    else:
        click.echo(f"Indexed {indexed} products, removed {removed}.")


@search_cli.command("reindex")
def search_reindex_command() -> None:
    """Rebuild the index from the database into a new directory and swap it in."""
    click.echo(f"Indexed {indexing.reindex()} products.")


@search_cli.command("verify")
def search_verify_command() -> None:
    """Report products missing from the index, extra in it, or stale. Exit 1 when not clean."""
    indexing.forget_index_check()
    problem = indexing.index_problem()
    if problem is not None:
        raise click.ClickException(
            f"The index cannot be trusted: {problem}. Run: flask search sync (it rebuilds "
            "the index) or flask search reindex"
        )
    try:
        report = indexing.verify()
    except IndexUnavailable as exc:
        raise click.ClickException(
            f"The index is unavailable: {exc}. Run: flask search reindex"
        ) from exc
    for kind in ("missing", "extra", "stale"):
        ids = report[kind]
        click.echo(f"{kind}: {len(ids)}" + (f" ({', '.join(map(str, ids[:20]))}…)" if ids else ""))
    if any(report.values()):
        raise SystemExit(1)
    click.echo("The index matches the database.")
