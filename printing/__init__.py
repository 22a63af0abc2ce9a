"""Printed documents: the programme (booklet, poster, flyer) and press kits, as PDF."""
