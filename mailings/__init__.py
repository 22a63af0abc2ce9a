"""Templates, mailings, deliveries, rendering, SMTP sending, scheduler, RSVP, newsroom."""
