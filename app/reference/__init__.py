"""Reference data every other package reads: provinces, counties and the programme's sectors."""
