"""Shipping: each seller's shipping methods and their rate rules, delivery estimates, and the
seller's vacation mode."""
