"""The pure sync core: given the last agreed state, both sides now and the SCI's policy,
decide what must happen. No ``async def`` and no I/O imports here (a test enforces it);
everything it returns is a plain value the async shell executes."""
