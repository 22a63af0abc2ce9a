"""Bounces and complaints that arrive after the server's 250: read, attributed to a delivery, applied."""
