"""Social-security card domain: cards bound as visitor cards, card entry, library loans, benefits."""
