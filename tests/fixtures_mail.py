"""Mail fixtures (a real SMTP server on loopback): built with the delivery engine (issue 4)."""
