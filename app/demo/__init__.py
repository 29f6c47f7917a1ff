"""Persian demo data for ``flask seed-demo``: imported by that command only."""
