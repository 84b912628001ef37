"""Conversations (sessions): traces of one user that run one after another within the hour."""

from __future__ import annotations

from collections.abc import Callable

from .catalog import OPENINFERENCE, OPENLLMETRY, OTEL_GENAI
from .rng import _Rng, _Weighted

#: Traces per conversation (session).
_TURNS_TABLE = _Weighted((1, 2, 3, 4, 5), (40, 25, 15, 12, 8))
_USERS = 5000  # user ids user-00001 .. user-05000, the same in every hour


class _Conversation:
    """A session: 1-5 traces of one user, one after another within the hour."""

    __slots__ = ("session_id", "user_id", "remaining", "last_trace", "last_root", "last_end")

    def __init__(self, session_id: str | None, user_id: str, turns: int) -> None:
        self.session_id = session_id
        self.user_id = user_id
        self.remaining = turns
        self.last_trace: str | None = None
        self.last_root: str | None = None
        self.last_end = 0


def _uuid(rng: _Rng) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:]}"


def _session_id(rng: _Rng, dialect: str) -> str | None:
    if dialect == OTEL_GENAI:
        return f"conv_{rng.getrandbits(96):024x}"
    if dialect == OPENLLMETRY:
        return _uuid(rng)
    if dialect == OPENINFERENCE:
        return f"sess_{rng.getrandbits(80):020x}"
    return None  # GenAI v1.26 has no conversation id


class _Conversations:
    """Open conversations per service within one hour."""

    __slots__ = ("open",)

    def __init__(self) -> None:
        self.open: dict[str, list[_Conversation]] = {}

    def pick(self, rng: _Rng, service: str, new_session: Callable[[], str | None]) -> tuple[_Conversation, bool]:
        """Continue an open conversation of ``service`` (half the time, when there is one) or start one;
        returns (conversation, is a follow-up)."""
        open_ = self.open.setdefault(service, [])
        if open_ and rng.random() < 0.5:
            return open_[int(rng.random() * len(open_))], True
        conversation = _Conversation(new_session(), f"user-{rng.between(1, _USERS + 1):05d}", _TURNS_TABLE.draw(rng))
        return conversation, False

    def record(self, service: str, conversation: _Conversation, trace_id: str, root_id: str, end: int,
               follow_up: bool) -> None:
        conversation.last_trace, conversation.last_root, conversation.last_end = trace_id, root_id, end
        conversation.remaining -= 1
        open_ = self.open[service]
        if follow_up:
            if conversation.remaining <= 0:
                open_.remove(conversation)
        elif conversation.remaining > 0:
            open_.append(conversation)
            if len(open_) > 64:  # an abandoned conversation: it simply ends early
                del open_[0]
