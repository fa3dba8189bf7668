"""Fakes of the outside services seatledger talks to: real small servers, not patches."""
