"""The BindingStore contract: one binding per conversation key (a new one replaces it), kept across restarts."""

from __future__ import annotations

from bot.models import Binding
from bot.ports import BindingStore
from tests.core.contracts.stores import StoreUnderTest


async def test_bindings_replace_and_delete(opened: StoreUnderTest) -> None:
    store: BindingStore = opened.store
    first = Binding(conversation="telegram:-100", preset="ada", bound_by="telegram:1")
    await store.put_binding(first)
    second = first.model_copy(update={"preset": "kira"})
    await store.put_binding(second)
    await store.put_binding(Binding(conversation="discord:1:2", preset="ada", bound_by="discord:9"))
    assert await store.get_binding("telegram:-100") == second

    again: BindingStore = await opened.reopen()
    assert [b.conversation for b in await again.list_bindings()] == ["discord:1:2", "telegram:-100"]
    assert await again.delete_binding("telegram:-100") is True
    assert await again.get_binding("telegram:-100") is None
    assert await again.delete_binding("telegram:-100") is False
