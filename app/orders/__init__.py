"""Orders: carts, one order per seller per checkout, line snapshots, stock and status moves."""
