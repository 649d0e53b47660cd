"""The web app (Flask): JSON API for integrations; pages come with accounts later."""
