"""Press relations on top of mailings: conferences and RSVP, releases, embargo and newsroom, relay kits, contact pressure."""
