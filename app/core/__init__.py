"""Shared ground below every domain package: the database and its types, the extensions, domain
errors, the clock, input parsing, formatting, site links and logs. Imports nothing else of the app.
"""
