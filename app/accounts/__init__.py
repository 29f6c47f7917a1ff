"""Accounts: users, roles and passwords."""
