"""Templates, mailings and deliveries (to be built: issue 4)."""
