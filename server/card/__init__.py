"""Social-security card: cards bound as visitor cards, card entry, library loans, benefits."""
