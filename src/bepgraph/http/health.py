"""``/healthz``: the service is up and its store answers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from ..store import Store

router = APIRouter()


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


@router.get("/healthz")
def healthz(store: Annotated[Store, Depends(_store)]) -> dict[str, object]:
    return {"status": "ok", "store": store.location, "graphs": len(store.named_graphs())}
