"""The platform-agnostic admin commands: parse, check permissions, run against the store, answer in text.

Adapters do the platform's own admin check and pass it as ``platform_admin``; everything else is here::

    admin = AdminCommands(presets, bindings, audit, catalog, binder, service, npc, router, upstreams, owners)
    result = await admin.handle(request, "preset", "use kira", platform_admin=True)
    send(result.text); if result.greeting: post_as(result.greeting.speaker, result.greeting.text)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bot.admin import render
from bot.admin.bindings import Binder, unknown_preset
from bot.admin.cast import CastEditor
from bot.admin.editing import PresetEditor
from bot.admin.parse import (
    USAGE,
    AddNpc,
    AdminCommand,
    BindCharacter,
    CommandError,
    CreatePreset,
    DeletePreset,
    ListCast,
    ListPresets,
    RemoveNpc,
    SetNpcOption,
    SetOption,
    ShowHelp,
    ShowHistory,
    ShowPreset,
    Unbind,
    UsePreset,
    full_usage,
    parse,
)
from bot.admin.permissions import REFUSALS, Access, Role, may, role_of
from bot.admin.results import AdminResult, failed
from bot.bindings import Bindings
from bot.models import ChatRequest
from bot.npc import NpcService
from bot.ports import AuditLog, BindingStore, PresetStore
from bot.presets import PresetCatalog
from bot.router import Router
from bot.service import ChatService
from bot.upstream.base import Upstream

AUTOCOMPLETE_LIMIT = 25  # Discord shows at most 25 choices


def needed_access(command: AdminCommand) -> Access:
    match command:
        case ShowHelp() | ListPresets() | ShowPreset() | ListCast():
            return Access.PUBLIC
        case UsePreset(chat_id=str()):
            # resuming someone's upstream chat by id is for admins, not for any DM user
            return Access.EDIT_PRESETS
        case UsePreset() | Unbind() | BindCharacter():
            return Access.CONVERSATION
        case ShowHistory(everywhere=True):
            return Access.OWNER
        case ShowHistory():
            return Access.CONVERSATION
        case CreatePreset() | SetOption() | DeletePreset() | AddNpc() | RemoveNpc() | SetNpcOption():
            return Access.EDIT_PRESETS


class AdminCommands:
    def __init__(
        self,
        presets: PresetStore,
        bindings: BindingStore,
        audit: AuditLog,
        catalog: PresetCatalog,
        binder: Bindings,
        service: ChatService,
        npc: NpcService,
        router: Router,
        upstreams: Mapping[str, Upstream],
        owners: Iterable[str],
        default_preset: str | None = None,
    ) -> None:
        self._presets = presets
        self._bindings = bindings
        self._audit = audit
        self._catalog = catalog
        self._router = router
        self._owners = frozenset(owners)
        self._default = default_preset
        self._binder = Binder(presets, audit, catalog, binder, service, npc, router, upstreams)
        self._editor = PresetEditor(presets, bindings, audit, catalog, service, upstreams, default_preset)
        self._cast = CastEditor(presets, audit, catalog, upstreams, self._editor.outside_reach)

    async def handle(self, request: ChatRequest, command: str, args: str, platform_admin: bool) -> AdminResult:
        """Run ``/<command> <args>`` written in the request's conversation by the request's user."""
        try:
            parsed = parse(command, args)
        except CommandError as exc:
            return failed(exc.text)
        role = role_of(request, platform_admin, self._owners)
        needed = needed_access(parsed)
        if not may(role, needed):
            return failed(REFUSALS[needed])
        return await self._run(request, parsed, role)

    async def preset_names(self, prefix: str = "", limit: int = AUTOCOMPLETE_LIMIT) -> list[str]:
        """Preset names starting with ``prefix`` (any case), sorted, for autocomplete."""
        wanted = prefix.strip().lower()
        return [p.name for p in await self._catalog.all() if p.name.startswith(wanted)][:limit]

    async def _run(self, request: ChatRequest, command: AdminCommand, role: Role) -> AdminResult:
        match command:
            case ShowHelp():
                return AdminResult(text=full_usage())
            case ListPresets():
                return await self._list(request)
            case ShowPreset():
                return await self._show(request, command)
            case ShowHistory():
                return await self._history(request, command)
            case UsePreset():
                return await self._binder.use(request, command)
            case Unbind():
                return await self._binder.unbind(request)
            case BindCharacter():
                return await self._binder.character(request, command)
            case CreatePreset():
                return await self._editor.create(request, command)
            case SetOption():
                return await self._editor.set(request, command, role)
            case DeletePreset():
                return await self._editor.delete(request, command, role)
            case ListCast():
                return await self._cast.show(command)
            case AddNpc():
                return await self._cast.add(request, command, role)
            case RemoveNpc():
                return await self._cast.remove(request, command, role)
            case SetNpcOption():
                return await self._cast.set(request, command, role)

    async def _list(self, request: ChatRequest) -> AdminResult:
        stored = {p.name for p in await self._presets.list_presets()}
        route = await self._router.resolve(request)
        answering = route.preset.name if route is not None else None
        lines = []
        for preset in await self._catalog.all():
            marks = []
            if preset.name == answering:
                marks.append("answers here")
            if preset.name == self._default:
                marks.append("default")
            if preset.npcs:
                marks.append(f"{len(preset.npcs)} NPCs")
            lines.append(render.preset_line(preset, self._source(preset.name, stored), marks))
        return AdminResult(text=render.preset_list(lines))

    async def _show(self, request: ChatRequest, command: ShowPreset) -> AdminResult:
        preset = await self._catalog.get(command.name)
        if preset is None:
            return failed(unknown_preset(command.name, USAGE["show"]))
        stored = {command.name} if await self._presets.get_preset(command.name) is not None else set()
        binding = await self._bindings.get_binding(request.conversation_key)
        bound_here = binding is not None and binding.preset == preset.name
        return AdminResult(text=render.preset_details(preset, self._source(preset.name, stored), bound_here))

    async def _history(self, request: ChatRequest, command: ShowHistory) -> AdminResult:
        where = None if command.everywhere else request.conversation_key
        entries = await self._audit.list_audit(limit=command.limit, conversation=where)
        return AdminResult(text=render.history(entries, command.everywhere))

    def _source(self, name: str, stored: set[str]) -> render.Source:
        if name not in stored:
            return "file"
        return "override" if self._catalog.from_file(name) is not None else "stored"
