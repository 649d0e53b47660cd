"""Presence: what the door taps make of a student's time. Sessions and the weekly ledger
(hours against the contract, frozen weeks re-opened by late taps), corrections and
excuses, why a week adds up as it does, the weekly and period reports, and the line a
door shows after a tap. The registry is reached through ``server.ports.presence`` only."""
