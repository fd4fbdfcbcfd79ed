"""The HTTP edge: what every request meets before Connexion routes it (hygiene, OAuth pages, landing page)."""
