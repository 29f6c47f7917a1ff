"""Reviews and ratings of products by customers whose order line completed."""
