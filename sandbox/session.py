"""One sandbox session: who is typing where, the sandbox's own ``:commands``, and everything else sent to the
bot as the current user (bot commands such as ``/preset use zora`` included, exactly as typed).

Sandbox commands start with ``:`` so they never collide with a bot command or a chat message.
"""

from __future__ import annotations

import re

from sandbox.demo import DEFAULT_PRESET, PRESET_NAMES
from sandbox.platform import ChatRef, Place, SandboxError, SandboxPlatform
from sandbox.render import Screen
from sandbox.watch import ReplyWatcher
from sandbox.world import SandboxWorld

QUIT = frozenset({"/quit", ":quit", ":q", ":exit"})
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
DEFAULT_USER = "Alice"

HELP = """\
Type a message to send it to the bot as the current user. Bot commands are sent as typed:
  /start  /help  /status  /reset  /regenerate  /chat <text>
  /preset list | show <name> | use <name> | unbind | create <name> <character_id> | set ... | history
  /character <character_id>
In a group the bot answers when mentioned ({bot} hello), when you reply to it (:reply), or to /chat.
Sandbox commands:
  :user NAME             become user NAME (created on first use; joins the current group)
  :admin on|off          make the current user an administrator of their groups, or not
  :chat private          go to the current user's private chat with the bot
  :chat group NAME       go to group NAME (created on first use; the current user joins it)
  :reply TEXT            send TEXT as a reply to the bot's latest message here
  :where                 who you are, where, and which character answers here
  :counters              the platform's request counters (messages, edits, 429s) and the backend's
  :help                  this help
  /quit                  leave (also :quit, Ctrl-D or Ctrl-C)"""


class Session:
    def __init__(self, world: SandboxWorld, screen: Screen, platform: str = "telegram") -> None:
        self._world = world
        self._screen = screen
        self._platform: SandboxPlatform = world.platform(platform)
        self._watcher = ReplyWatcher(world, self._platform, screen)
        self.user = DEFAULT_USER
        self.place = Place("private")
        self._admins: set[str] = set()
        self._users = {DEFAULT_USER.lower(): DEFAULT_USER}  # names are case-insensitive, shown as first typed
        self._hinted = False

    @property
    def chat(self) -> ChatRef:
        return ChatRef.of(self._platform.name, self.user, self.place)

    @property
    def prompt(self) -> str:
        return f"{self.user}@{self.place.short(self.user)}> "

    @property
    def watcher(self) -> ReplyWatcher:
        return self._watcher

    async def open(self) -> None:
        self._enter()
        presets = ", ".join(
            f"{name} = {self._world.names[character_id]}" + (" (default)" if name == DEFAULT_PRESET else "")
            for character_id, name in PRESET_NAMES.items()
        )
        self._screen.note(
            f"charbridge sandbox: the real bridge on a local fake {self._platform.name.capitalize()} and a fake "
            f"Character.AI; nothing leaves this machine.\n"
            f"presets: {presets}\n"
            f"You are {self.user} in your private chat with {self._platform.bot_handle}. "
            f"Type a message, or :help."
        )

    def _enter(self) -> None:
        self._platform.enter(self.user, self.place)
        self._screen.current = self.chat
        self._watcher.follow(self.chat)

    async def handle(self, line: str) -> bool:
        """Run one typed line; False when the session should end."""
        line = line.strip()
        if not line:
            return True
        self._screen.typed(self.prompt, line)
        if line.lower() in QUIT:
            return False
        try:
            if line.startswith(":"):
                await self._command(line[1:])
            else:
                await self._send(line, reply=False)
        except SandboxError as exc:
            self._screen.note(str(exc))
        return True

    async def _send(self, text: str, *, reply: bool) -> None:
        before = self._watcher.shown
        self._platform.send(self.user, self.place, text, reply_to_bot=reply)
        await self.settle()
        if self._watcher.shown == before and self.place.kind == "group" and not self._hinted:
            self._hinted = True
            self._screen.note(
                f"(in a group the bot answers only when addressed: mention {self._platform.bot_handle}, "
                f"use :reply TEXT, or /chat TEXT)"
            )

    async def settle(self) -> None:
        """Wait until the bot answered in full, show what it wrote, and end the turn."""
        await self._platform.settle(self._world.timing.quiet)
        await self._watcher.flush()
        self._screen.end_turn()

    async def _command(self, text: str) -> None:
        name, _, rest = text.strip().partition(" ")
        rest = rest.strip()
        match name.lower():
            case "help" | "h" | "?":
                self._screen.note(HELP.format(bot=self._platform.bot_handle))
            case "user":
                await self._switch_user(rest)
            case "admin":
                self._set_admin(rest)
            case "chat":
                await self._switch_chat(rest)
            case "reply":
                if not rest:
                    raise SandboxError("usage: :reply TEXT")
                await self._send(rest, reply=True)
            case "where":
                await self._where()
            case "counters":
                self._screen.note("\n".join(self._platform.counters() + self._backend_counters()))
            case _:
                raise SandboxError(f"unknown sandbox command :{name} (:help lists them)")

    async def _switch_user(self, name: str) -> None:
        if not NAME.match(name):
            raise SandboxError("usage: :user NAME (a letter, then letters, digits or _)")
        self.user = self._users.setdefault(name.lower(), name)
        self._enter()
        await self._where()

    def _set_admin(self, value: str) -> None:
        if value.lower() not in ("on", "off"):
            raise SandboxError("usage: :admin on|off")
        admin = value.lower() == "on"
        (self._admins.add if admin else self._admins.discard)(self.user)
        self._platform.set_admin(self.user, admin)
        what = "an administrator" if admin else "no longer an administrator"
        self._screen.note(f"{self.user} is {what} of every group they are in")

    async def _switch_chat(self, where: str) -> None:
        kind, _, group = where.partition(" ")
        if kind.lower() == "private" and not group:
            self.place = Place("private")
        elif kind.lower() == "group" and group.strip():
            self.place = Place("group", group.strip())
        else:
            raise SandboxError("usage: :chat private | :chat group NAME")
        self._enter()
        await self._where()

    async def _where(self) -> None:
        role = " (administrator)" if self.user in self._admins and self.place.kind == "group" else ""
        speaker = await self._world.speaker(self.chat)
        bot = self._platform.bot_handle
        if self.place.kind == "private":
            where, how = f"their private chat with {bot}", ""
        else:
            where, how = f"the group {self.place.group!r}", f"; mention {bot} to talk to it"
        self._screen.note(f"{self.user}{role} in {where}: {speaker} answers here{how}")

    def _backend_counters(self) -> list[str]:
        counters = self._world.cai.counters
        generations = sum(n for key, n in counters.items() if key.endswith("generate_turn"))
        return [f"characterai: {generations} replies generated, {sum(counters.values())} requests and frames in all"]
