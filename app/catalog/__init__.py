"""Catalogue: sellers, categories, products and their images."""
