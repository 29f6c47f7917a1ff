"""Buyer–seller conversations: a customer asks a seller about a product before buying, or writes
about an order after; the seller answers from the seller area; either may report a
conversation, and programme staff read reported ones and hide abusive messages."""
