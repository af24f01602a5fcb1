"""One sandbox session: who is typing where (and on which platform), the sandbox's own ``:commands``, and
everything else sent to the bot as the current user (bot commands such as ``/preset use zora`` included, as
typed on Telegram, or as the slash command they name on Discord).

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
DEFAULT_PLATFORM = "telegram"

HELP = """\
Type a message to send it to the bot as the current user. Bot commands are sent as typed:
  /start  /help  /status  /reset  /regenerate  /chat <text>
  /preset list | show <name> | use <name> | unbind | create <name> <character_id> | set ... | history
  /character <character_id>
In a group the bot answers when mentioned ({bot} hello), when you reply to it (:reply), or to /chat.
On Discord a group is a text channel of the demo server and private is a DM; the same command lines become
slash commands there (/preset use zora = /preset use name:zora; the last text option takes the rest of the
line), which the bridge registers in the demo server only, so not in DMs.
Sandbox commands:
  :platform NAME         chat on telegram (the default) or discord; each keeps where you were
  :user NAME             become user NAME (created on first use; joins the current group)
  :admin on|off          Telegram: administrator of their groups; Discord: a role with Manage Server
  :chat private          go to the current user's private chat (Discord: DM) with the bot
  :chat group NAME       go to group NAME (Discord: channel #NAME; created on first use)
  :reply TEXT            send TEXT as a reply to the bot's (or a character's) latest message here
  :where                 who you are, where, and which character answers here
  :counters              every platform's request counters (messages, edits, 429s) and the backend's
  :help                  this help
  /quit                  leave (also :quit, Ctrl-D or Ctrl-C)"""


class Session:
    def __init__(self, world: SandboxWorld, screen: Screen, platform: str = DEFAULT_PLATFORM) -> None:
        self._world = world
        self._screen = screen
        self._platform: SandboxPlatform = world.platform(platform)
        self._watcher = ReplyWatcher(world, screen)
        self.user = DEFAULT_USER
        self.place = Place("private")
        self._places: dict[str, Place] = {}  # platform -> where the user was when they left it
        self._admins: set[tuple[str, str]] = set()  # (platform, user)
        self._users = {DEFAULT_USER.lower(): DEFAULT_USER}  # names are case-insensitive, shown as first typed
        self._hinted = False

    @property
    def chat(self) -> ChatRef:
        return ChatRef.of(self._platform.name, self.user, self.place)

    @property
    def prompt(self) -> str:
        return f"{self.user}@{self._platform.place_label(self.user, self.place)}> "

    @property
    def watcher(self) -> ReplyWatcher:
        return self._watcher

    async def open(self) -> None:
        await self._enter()
        presets = ", ".join(
            f"{name} = {self._world.names[character_id]}" + (" (default)" if name == DEFAULT_PRESET else "")
            for character_id, name in PRESET_NAMES.items()
        )
        fakes = [f"a fake {name.capitalize()}" for name in self._world.platforms] + ["a fake Character.AI"]
        others = [name for name in self._world.platforms if name != self._platform.name]
        switch = "".join(f" (:platform {name} for {name.capitalize()})" for name in others)
        self._screen.note(
            f"charbridge sandbox: the real bridge on local fakes: {', '.join(fakes[:-1])} and {fakes[-1]}; "
            f"nothing leaves this machine.\n"
            f"presets: {presets}\n"
            f"You are {self.user} in your private chat with {self._platform.bot_handle} on "
            f"{self._platform.name.capitalize()}{switch}. Type a message, or :help."
        )

    async def _enter(self) -> None:
        await self._platform.enter(self.user, self.place)
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
        await self._platform.send(self.user, self.place, text, reply_to_bot=reply)
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
            case "platform":
                await self._switch_platform(rest)
            case "user":
                await self._switch_user(rest)
            case "admin":
                await self._set_admin(rest)
            case "chat":
                await self._switch_chat(rest)
            case "reply":
                if not rest:
                    raise SandboxError("usage: :reply TEXT")
                await self._send(rest, reply=True)
            case "where":
                await self._where()
            case "counters":
                lines = [line for p in self._world.platforms.values() for line in p.counters()]
                self._screen.note("\n".join(lines + self._backend_counters()))
            case _:
                raise SandboxError(f"unknown sandbox command :{name} (:help lists them)")

    async def _switch_platform(self, name: str) -> None:
        wanted = name.strip().lower()
        if wanted not in self._world.platforms:
            raise SandboxError(f"usage: :platform {'|'.join(self._world.platforms)}")
        self._places[self._platform.name] = self.place
        self._platform = self._world.platform(wanted)
        self.place = self._places.get(wanted, Place("private"))
        await self._enter()
        await self._where()

    async def _switch_user(self, name: str) -> None:
        if not NAME.match(name):
            raise SandboxError("usage: :user NAME (a letter, then letters, digits or _)")
        self.user = self._users.setdefault(name.lower(), name)
        await self._enter()
        await self._where()

    async def _set_admin(self, value: str) -> None:
        if value.lower() not in ("on", "off"):
            raise SandboxError("usage: :admin on|off")
        admin = value.lower() == "on"
        key = (self._platform.name, self.user)
        (self._admins.add if admin else self._admins.discard)(key)
        self._screen.note(await self._platform.set_admin(self.user, admin))

    async def _switch_chat(self, where: str) -> None:
        kind, _, group = where.partition(" ")
        if kind.lower() == "private" and not group:
            self.place = Place("private")
        elif kind.lower() == "group" and group.strip():
            self.place = Place("group", group.strip())
        else:
            raise SandboxError("usage: :chat private | :chat group NAME")
        await self._enter()
        await self._where()

    async def _where(self) -> None:
        admin = (self._platform.name, self.user) in self._admins
        role = " (administrator)" if admin and self.place.kind == "group" else ""
        speaker = await self._world.speaker(self.chat)
        how = "" if self.place.kind == "private" else f"; mention {self._platform.bot_handle} to talk to it"
        where = self._platform.place_description(self.place)
        self._screen.note(f"{self.user}{role} in {where}: {speaker} answers here{how}")

    def _backend_counters(self) -> list[str]:
        counters = self._world.cai.counters
        generations = sum(n for key, n in counters.items() if key.endswith("generate_turn"))
        return [f"characterai: {generations} replies generated, {sum(counters.values())} requests and frames in all"]
