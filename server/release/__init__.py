"""Ticket release under a flash crowd (抢票): the remaining-places mirror, the waiting room, holds
and the anti-scalping limits."""
