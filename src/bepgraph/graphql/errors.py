"""What a GraphQL client may be told: typed outcomes and the errors that are its own fault.

Expected outcomes (an unknown series) are types in the schema; a malformed
argument (a page too large, a cursor of another list) is a
:class:`UserInputError`, shown as it is; so is a store that refuses to be
read while a load is unfinished (:class:`LoadUnderWay`: the client asks again
later). Every other exception is an internal fault and is masked by
:func:`should_mask_error`.
"""

from __future__ import annotations

import strawberry
from graphql import GraphQLError

from ..errors import InputError, LoadUnderWay

__all__ = ["NotFound", "UserInputError", "should_mask_error"]


class UserInputError(Exception):
    """An argument the client can fix; its message is shown to the client."""


@strawberry.type(description="No entity of this kind has the id asked for.")
class NotFound:
    kind: str = strawberry.field(description="The kind of entity asked for, e.g. `series`.")
    id: str = strawberry.field(description="The id that matched nothing.")
    message: str


def should_mask_error(error: GraphQLError) -> bool:
    """Mask internal faults; keep GraphQL's own errors (syntax, validation, limits), the client's, and a
    store's refusal to be read mid-load."""
    original = error.original_error
    if original is None:
        return False
    return not isinstance(original, (UserInputError, InputError, LoadUnderWay))
