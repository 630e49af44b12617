"""The developer landing page and the look it shares with the consent page."""
