# SPDX-License-Identifier: MIT
"""The demo game server: a world, its players, and one tasklet per client.

The protocol is one command per line, UTF-8:

    NAME <name>       join the world (must come first)
    SAY <text>        chat to everyone
    MOVE <dx> <dy>    move by at most one step on each axis
    WHO               list the players and where they are
    QUIT              leave

Every event is sent to every player as one line ``<kind> <name> <text>``.
A slow client cannot stall the others: each player has an outbox drained by
its own writer tasklet, and a player whose outbox overflows is disconnected.
"""
import collections

import pyhost
from pyhost import socket

from . import _leakygame

WORLD_SIZE = 32
MAX_LINE = 512
MAX_NAME = 24
MAX_OUTBOX = 1000


class Player:
    def __init__(self, name, conn):
        self.name = name
        self.conn = conn
        self.x = self.y = WORLD_SIZE // 2
        self.history = []           # leaked a reference per move (on purpose)
        self.outbox = collections.deque()
        self.wakeup = pyhost.channel()  # the writer waits here when idle
        self.writer = None              # its tasklet
        self.gone = False

    def enqueue(self, wire):
        """Queue wire for the writer; never blocks the calling tasklet."""
        if len(self.outbox) >= MAX_OUTBOX:
            self.drop()
            return
        self.outbox.append(wire)
        self._wake_writer()

    def leave(self):
        """Stop after the writer has sent what is queued."""
        self.gone = True
        self._wake_writer()

    def drop(self):
        """Disconnect a client too slow to keep up: its queue is lost."""
        self.outbox.clear()
        self.leave()
        try:
            self.conn.shutdown(socket.SHUT_RDWR)  # ends a blocked sendall
        except OSError:
            pass

    def _wake_writer(self):
        if self.wakeup.balance < 0:     # a receiver waits: send hands over
            self.wakeup.send(None)


class World:
    def __init__(self):
        self.players = {}
        self.ticks = 0
        self.events = 0

    def broadcast(self, kind, name, text):
        wire = _leakygame.encode_event(kind, name, text)
        self.events += 1
        for player in list(self.players.values()):
            player.enqueue(wire)

    def move(self, player, dx, dy):
        player.x = min(max(player.x + dx, 0), WORLD_SIZE - 1)
        player.y = min(max(player.y + dy, 0), WORLD_SIZE - 1)
        _leakygame.remember_position(player.history, player.x, player.y)
        self.broadcast("MOVE", player.name, f"{player.x} {player.y}")


def _writer(player):
    """Send the player's queued lines; after it leaves, flush and stop."""
    try:
        while True:
            while player.outbox:
                player.conn.sendall(player.outbox.popleft())
            if player.gone:
                return
            player.wakeup.receive()
    except OSError:
        # A dead client: make the reader tasklet see EOF and take the player
        # out of the world.
        player.drop()


def _parse_step(args):
    try:
        dx, dy = (int(v) for v in args.split())
    except ValueError:
        return None
    if abs(dx) > 1 or abs(dy) > 1:
        return None
    return dx, dy


def _serve_client(world, conn):
    reader = conn.makefile("rb")
    player = None

    def reply(text):
        # Once joined, replies go through the outbox so that they stay in
        # order with the events the writer tasklet sends.
        wire = text.encode() + b"\n"
        if player is None:
            conn.sendall(wire)
        else:
            player.enqueue(wire)

    try:
        reply("WELCOME send NAME <name>")
        while player is None or not player.gone:
            line = reader.readline(MAX_LINE + 1)
            if not line:
                break
            if len(line) > MAX_LINE:
                reply("ERROR line too long")
                break
            try:
                text = line.decode("utf-8").strip()
            except UnicodeDecodeError:
                reply("ERROR lines must be UTF-8")
                continue
            command, _, args = text.partition(" ")
            command = command.upper()
            if player is None:
                name = args.strip()
                if command != "NAME" or not name or len(name) > MAX_NAME \
                        or not name.isprintable() or " " in name:
                    reply("ERROR first send NAME <name> "
                          "(1-24 printable characters, no spaces)")
                elif name in world.players:
                    reply("ERROR that name is taken")
                else:
                    player = Player(name, conn)
                    world.players[name] = player
                    player.writer = pyhost.spawn(_writer, player)
                    world.broadcast("JOIN", name, f"{player.x} {player.y}")
            elif command == "SAY":
                world.broadcast("SAY", player.name, args[:200])
            elif command == "MOVE":
                step = _parse_step(args)
                if step is None:
                    reply("ERROR MOVE takes two steps in -1..1")
                else:
                    world.move(player, *step)
            elif command == "WHO":
                reply("WHO " + " ".join(f"{p.name}@{p.x},{p.y}"
                                        for p in world.players.values()))
            elif command == "QUIT":
                break
            else:
                reply("ERROR unknown command")
    except OSError:
        pass
    finally:
        if player is not None:
            del world.players[player.name]
            world.broadcast("LEAVE", player.name, "bye")
            player.leave()
            # Let the writer flush what is queued (the LEAVE included).
            player.writer.join(timeout=5)
        reader.close()
        conn.close()


def _clock(world, period):
    while True:
        pyhost.sleep(period)
        world.ticks += 1


def serve(host="127.0.0.1", port=0, ready=None, clock_period=1.0):
    """Run the game server on the calling thread's hub, forever.

    ``ready``, if given, is called with the bound (host, port) once the
    server listens.
    """
    world = World()
    listener = socket.create_server((host, port))
    if ready is not None:
        ready(listener.getsockname()[:2])
    pyhost.spawn(_clock, world, clock_period)
    while True:
        conn, _ = listener.accept()
        pyhost.spawn(_serve_client, world, conn)
