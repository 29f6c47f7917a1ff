"""Problems customers report on orders they received (or did not): the seller's answer, the
market's decision, and the refund it makes."""
