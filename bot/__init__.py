"""charbridge core: platform-agnostic models, routing, state, queueing and the reply relay."""
