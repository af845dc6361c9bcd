"""Which actor the current task works for.

The supervisor binds the actor's id before the actor body runs; the value flows into every
task the actor spawns (contextvars are copied on spawn), so a rate budget can charge the
right actor without every adapter call having to carry the id.
"""

from contextvars import ContextVar

DAEMON = "daemon"

current_actor: ContextVar[str] = ContextVar("current_actor", default=DAEMON)
