"""Payments: one per checkout, covering its orders; providers Stripe and cash on delivery."""
