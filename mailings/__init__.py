"""Templates, mailings, deliveries, rendering, the delivery engine and the scheduler; the floors above add to them through `mailings.hooks`."""
