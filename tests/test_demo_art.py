"""The demo's drawn product pictures: every motif family draws for any seed (a ring drawn past
the plate's centre once stopped `make run`)."""

from __future__ import annotations

import pytest

from app.media.art import _DRAWERS, draw_product_art


@pytest.mark.parametrize("kind", sorted(_DRAWERS))
def test_every_family_draws_for_many_seeds(kind: str) -> None:
    for seed in range(300):  # at the demo's proportions (its pictures are 960 × 720)
        assert draw_product_art("کاسه", seed=seed, kind=kind, size=(480, 360))
