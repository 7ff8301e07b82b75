"""make mutants: small, realistic bugs put into a copy of the kit one at a time; the tests must catch each.

    python tests/mutants.py            every mutant below
    python tests/mutants.py NAME ...   those whose names contain any of these words
    python tests/mutants.py --list     their names, files and tests, without running anything
    python tests/mutants.py --clean    each mutant's tests on an unchanged copy: they must pass
    python tests/mutants.py --no-whole a mutant its tests miss is not tried on the whole suite

Each mutant is one line of one file, changed. For each, the tracked files
(git ls-files) are copied to a temporary folder, the line is changed there
(the working tree is never touched), and only the tests that should catch it
run there, with pytest -x. One line per mutant says which test caught it, by
its first failing test's id. Every original line must occur exactly once in
its file, or the script stops before it runs anything.

A mutant its own tests miss is tried once more, on the whole suite (pytest -x,
WHOLE_SECONDS at most), before it is reported, in a fresh copy where a bug in
the armour is in every stage: the same line changed in each stage's file of that
name that holds it below its "# Armour" line. (In one stage only, the whole
suite would fail it for the armour no longer being the same in every stage,
tests/test_layout.py, which says nothing of the bug.) Its line then says
"caught only by the whole suite" and names that test: its own selection must
be made to catch it. Or it SURVIVED both. The last line counts the mutants,
those caught by their own tests, those caught only by the whole suite and
those caught by none. It exits 1 unless every mutant was caught by its own tests.

To add a mutant, add one Mutant(...) to MUTANTS: a name, the file, the exact
original line, the line that replaces it, and the pytest arguments (files, -k)
that select the tests that should catch it. Keep each selection narrow: the
whole list must run in about 20 minutes on 2 cores. The armour is the same in
every stage, so a bug in it is put into one stage, and only that stage's
tests run.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
HEADLESS = {"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
MOST_SECONDS = 600  # one mutant's tests; a hang counts as not caught
WHOLE_SECONDS = 2400  # the whole suite, for a mutant its tests missed (a run takes about 12 min on 2 cores)
ARMOUR = "# Armour"  # in every stage's server.py and game.py: the lines below it are the same in each


class Mutant(NamedTuple):
    name: str
    file: str
    original: str     # the whole line, as it is in the file, without its newline
    replacement: str
    tests: list       # pytest arguments: test files, node ids, -k expressions


S4, S5 = "stage4_relay", "stage5_optimized"
MUTANTS = [
    # The lessons: what each stage teaches.
    Mutant("stage 5 tells the mover, not the opponent", f"{S5}/server.py",
           "        opponent = game.channels[1 - number]",
           "        opponent = game.channels[number]",
           ["tests/test_relay.py", "-k", "scripted and stage5_optimized-poll"]),
    Mutant("stage 4 tells one player only", f"{S4}/server.py",
           "        for channel in game.channels:  # both players hear of every move, the mover too",
           "        for channel in game.channels[:1]:  # both players hear of every move, the mover too",
           ["tests/test_relay.py", "-k", "scripted and stage4_relay-poll"]),
    Mutant("stage 2 keeps a player who left in the queue", "stage2_queue/server.py",
           "            self.waiting_game = None  # so nobody is ever paired with a player who has gone",
           "            pass  # so nobody is ever paired with a player who has gone",
           ["tests/test_queue.py", "-k", "stage2 and poll"]),
    Mutant("stage 4 takes a move for another game", f"{S4}/server.py",
           '        if number is None or message.get("gameID") != game.id or message.get("player") != number:',
           '        if number is None or message.get("player") != number:',
           ["tests/test_bad_input.py", "-k", "bad_move and stage4_relay and ID and poll"]),
    Mutant("stage 4 takes a step of any length", f"{S4}/server.py",
           "    x += clamp(dx, -speed, speed)  # no step longer than the speed: no teleporting",
           "    x += dx  # no step longer than the speed: no teleporting",
           ["tests/test_bad_input.py", "-k", "huge_step and stage4_relay and poll"]),
    Mutant("stage 5's game bounds y by the arena's width", f"{S5}/game.py",
           "    return [clamp(x, 0, arena[0]), clamp(y, 0, arena[1])]",
           "    return [clamp(x, 0, arena[0]), clamp(y, 0, arena[0])]",
           ["tests/test_relay.py", "-k", "walls and stage5_optimized-poll"]),
    Mutant("a refused game prints a traceback", f"{S5}/game.py",
           '        error = message["error"]  # an exception, or the arguments of one',
           '        error = message["error"]; raise ConnectionError(error)',
           ["tests/test_command_line.py", "-k", "game_without_a_server"]),
    Mutant("the counters count local events", "stage1_echo/game.py",
           '        if message["action"] not in LOCAL_EVENTS:',
           "        if True:",
           ["tests/test_echo.py", "-k", "counters and stage1"]),
    # The tools.
    Mutant("the lag proxy delays one way only", "tools/lagproxy.py",
           "             DelayedPipe(server_reader, client_writer, options, views[1])]",
           "             DelayedPipe(server_reader, client_writer, argparse.Namespace(**{**vars(options), "
           '"delay": 0, "jitter": 0}), views[1])]',
           ["tests/test_lag.py", "-k", "twice_the_delay and 0-poll"]),
    Mutant("the lag proxy never resends a lost chunk", "tools/lagproxy.py",
           "                    due += wait",
           "                    continue",
           ["tests/test_head_of_line.py", "-k", "held_reply"]),
    # The armour, the same in every stage: each put into stage 5 only.
    Mutant("a vanished client is never noticed (notice_vanishing does nothing)", f"{S5}/server.py",
           "        notice_vanishing(self.socket)  # so that a vanished client is noticed",
           "        pass  # so that a vanished client is noticed",
           ["tests/test_limits.py", "-k", "under_64"]),
    Mutant("a stalled reader is never cut at 64 KiB", f"{S5}/server.py",
           '                return channel.cut(f"left {MAX_UNSENT_BYTES} bytes unread")',
           "                pass",
           ["tests/test_limits.py", "-k", "as_on_windows and stage5"]),
    Mutant("the loop as on Windows waits for ever", f"{S5}/server.py",
           "            readable, writable, urgent = select.select(self.reading, self.writing, self.reading, seconds)",
           "            readable, writable, urgent = select.select(self.reading, self.writing, self.reading, None)",
           ["tests/test_idle_cpu.py", "-k", "still_turns and stage5_optimized-windows"]),
    Mutant("the loop waits for ever", f"{S5}/server.py",
           "        ready = self.poller.poll(0 if self.busy else seconds * 1000)  # in milliseconds",
           "        ready = self.poller.poll(0 if self.busy else -1)  # in milliseconds",
           ["tests/test_idle_cpu.py", "-k", "still_turns and stage5_optimized-poll"]),
    Mutant("a channel's queue is sent again every turn", f"{S5}/server.py",
           "            self.sendqueue = []",
           "            pass",
           ["tests/test_relay.py", "-k", "scripted and stage5_optimized-poll"]),
    Mutant("a busy server never naps", f"{S5}/server.py",
           "        self.busy = bool(ready) and (napped or self.woke - last < self.nap)",
           "        self.busy = False",
           ["tests/test_loop.py", "-k", "busy_server and stage5_optimized-poll"]),
    Mutant("the server naps after every turn that read something", f"{S5}/server.py",
           "        self.busy = bool(ready) and (napped or self.woke - last < self.nap)",
           "        self.busy = bool(ready)",
           ["tests/test_loop.py", "-k", "far_apart and stage5_optimized"]),
    Mutant("one player too few (--max-players)", f"{S5}/server.py",
           "        if len(self.channels) >= self.max_players:  # refuse it now, or accept() fails later",
           "        if len(self.channels) >= self.max_players - 1:  # refuse it now, or accept() fails later",
           ["tests/test_connection_flood.py", "-k", "max_players and stage5_optimized-poll"]),
    Mutant("handle_close says nothing of a reset", f"{S5}/server.py",
           '            log(f"{self.address} lost its connection ({os.strerror(error)})")',
           "            pass",
           ["tests/test_churn.py", "-k", "reset_that and stage5"]),
    Mutant("a message of exactly 64 KiB is cut", f"{S5}/server.py",
           "        if len(self._ibuffer) + len(data) > MAX_MESSAGE_BYTES:",
           "        if len(self._ibuffer) + len(data) >= MAX_MESSAGE_BYTES:",
           ["tests/test_limits.py", "-k", "message_of_the_limit and stage5"]),
    Mutant("every dropped message gets a line", f"{S5}/server.py",
           "        self.unlogged_drops, self.quiet_until = 0, now + 1",
           "        self.unlogged_drops, self.quiet_until = 0, now",
           ["tests/test_limits.py", "-k", "flood_of_dropped and stage5"]),
    Mutant("bytes that do not decode are dropped, not cut", f"{S5}/server.py",
           '            return self.cut("sent bytes that do not decode")',
           '            return self.drop(raw, "sent bytes that do not decode")',
           ["tests/test_bad_input.py", "-k", "undecodable and stage5 and poll"]),
    # One machine's fair share (issue 22), the same in every stage.
    Mutant("keys that share one hash are decoded into a dict", f"{S5}/server.py",
           "        if type(key) is str:",
           "        if True:",
           ["tests/test_fair_share.py", "-k", "not_text and stage5"]),
    Mutant("no limit of connections per address", f"{S5}/server.py",
           "        if self.per_address and len(share.connections) >= self.per_address:",
           "        if False:",
           ["tests/test_fair_share.py", "-k", "share_of_connections and stage5"]),
    Mutant("an address's connections are never counted", f"{S5}/server.py",
           "        self.share.connections.add(self)",
           "        pass",
           ["tests/test_fair_share.py", "-k", "share_of_connections and stage5"]),
    Mutant("no limit of new connections per address", f"{S5}/server.py",
           "        if not share.may_join(self.new_per_address):",
           "        if False:",
           ["tests/test_fair_share.py", "-k", "bombarded and stage5"]),
    Mutant("every line about a busy machine is printed", f"{S5}/server.py",
           "        if share is None or file is not sys.stdout or share.may_log(self.lines_per_address):",
           "        if True:",
           ["tests/test_fair_share.py", "-k", "busy_machine and stage5"]),
    Mutant("a connection that says nothing stays for ever", f"{S5}/server.py",
           "            if channel.whole_by is not None and now > channel.whole_by and channel.share.reading:",
           "            if False:",
           ["tests/test_fair_share.py", "-k", "says_nothing and stage5"]),
    Mutant("an unfinished message may sit for ever", f"{S5}/server.py",
           "            if self.whole_by is None:  # a new message starts: it too must be whole in time",
           "            if False:  # a new message starts: it too must be whole in time",
           ["tests/test_fair_share.py", "-k", "unfinished and stage5"]),
    Mutant("the player limit ignores the file limit", "stage1_echo/server.py",
           "    if files is not None and server.max_players > files - FILE_MARGIN:",
           "    if False:",
           ["tests/test_fair_share.py", "-k", "under_the_file_limit"]),
    Mutant("a second Ctrl+C while the server stops is a traceback", "stage3_startgame/server.py",
           "    if not stop.asked:",
           "    if True:",
           ["tests/test_command_line.py", "-k", "(however or signal_while) and stage3"]),
    Mutant("a signal as the stopped server exits ends it by the signal", "stage3_startgame/server.py",
           '    if hasattr(signal, "pthread_sigmask"):  # and stay stopped: one more, as Python exits, would',
           '    if False:  # and stay stopped: one more, as Python exits, would',
           ["tests/test_command_line.py", "-k", "however and stage3"]),
    # The loop's watch of each socket (issue 33): each change must be made.
    Mutant("a reply the socket could not take is never written", f"{S5}/server.py",
           "            self.watch(channel)  # what the socket did not take yet: wait to write it",
           "            pass  # what the socket did not take yet: wait to write it",
           ["tests/test_loop.py", "-k", "could_not_take and stage5_optimized-poll"]),
    Mutant("as on Windows, a reply the socket could not take is never written", "stage1_echo/server.py",
           "        (self.writing.add if events & WRITE else self.writing.discard)(fd)",
           "        (self.writing.discard if events & WRITE else self.writing.discard)(fd)",
           ["tests/test_loop.py", "-k", "could_not_take and stage1_echo-windows"]),
    Mutant("a closed channel is left watched", f"{S5}/server.py",
           "        self._server.unwatch(self)",
           "        pass",
           ["tests/test_loop.py", "-k", "no_longer_watched and stage5_optimized"]),
    Mutant("over its budget, an address is still read", f"{S5}/server.py",
           "                self.watch(channel)",
           "                pass",
           ["tests/test_loop.py", "-k", "over_its_budget and stage5_optimized"]),
    Mutant("a flooder's sockets are never watched again", f"{S5}/server.py",
           "                    self.watch(channel)",
           "                    pass",
           ["tests/test_fair_share.py", "-k", "no_faster and stage5"]),
    Mutant("after a pause for files, newcomers are never taken again", "stage2_queue/server.py",
           "            self.watch(self)  # readable() again once the pause is over",
           "            pass  # readable() again once the pause is over",
           ["tests/test_fair_share.py", "-k", "out_of_files and poll"]),
    Mutant("the loop does not wait for the urgent byte", f"{S5}/server.py",
           "        events = READ | URGENT if dispatcher.readable() else 0  # URGENT: handle_expt() hears the urgent byte",
           "        events = READ if dispatcher.readable() else 0  # URGENT: handle_expt() hears the urgent byte",
           ["tests/test_one_sender.py", "-k", "urgent and stage5"]),
    Mutant("out of files, the loop spins", "stage2_queue/server.py",
           "        return not self.accept_trouble or time.monotonic() >= self.accept_again_at",
           "        return True",
           ["tests/test_fair_share.py", "-k", "out_of_files and poll"]),
    Mutant("a flooder is read as fast as it sends", f"{S5}/server.py",
           "        return self.share.reading  # the loop watches the socket only if so; while not, TCP makes the client wait",
           "        return True  # the loop watches the socket only if so; while not, TCP makes the client wait",
           ["tests/test_fair_share.py", "-k", "no_faster and stage5"]),
    Mutant("messages cost nothing from the budget", f"{S5}/server.py",
           "        share.budget = min(self.burst, share.budget + rate * (now - share.budget_at)) - cost",
           "        share.budget = min(self.burst, share.budget + rate * (now - share.budget_at))",
           ["tests/test_fair_share.py", "-k", "no_faster and stage5"]),
    Mutant("a flooder is never read again", f"{S5}/server.py",
           "                share.reading = True",
           "                pass",
           ["tests/test_fair_share.py", "-k", "no_faster and stage5"]),
    Mutant("a console that is not UTF-8 prints a traceback", f"{S5}/server.py",
           '            stream.reconfigure(errors="backslashreplace")',
           "            pass",
           ["tests/test_fair_share.py", "-k", "console and stage5"]),
    # A game survives its server's mistakes (issue 24): the guard in every game.py.
    Mutant("a message is queued before it is checked", f"{S5}/game.py",
           "        connection.found_terminator = self.read_message  # check each message before it is queued",
           "        pass  # check each message before it is queued",
           ["tests/test_rogue_server.py::test_a_game_survives_its_servers_mistake[an int action]"]),
    Mutant("a half-applied message is not taken back", f"{S5}/game.py",
           "                vars(self).update(before)",
           "                pass",
           ["tests/test_rogue_server.py", "-k", "halfway"]),
    Mutant("a player number too high is taken", f"{S5}/game.py",
           "        if number is not None and not (type(number) is int and 0 <= number < players):",
           "        if number is not None and not (type(number) is int and 0 <= number):",
           ["tests/test_rogue_server.py::test_a_game_survives_its_servers_mistake[startgame for player 5]"]),
    Mutant("positions before startgame are taken", f"{S4}/game.py",
           "        if positions is not None and number is None:",
           "        if False:",
           ["tests/test_rogue_server.py::test_a_game_survives_its_servers_mistake[positions before startgame]"]),
    Mutant("a position too far to draw is taken", f"{S5}/game.py",
           "    return type(value) in (int, float) and abs(value) <= FARTHEST  # not True, nan or inf",
           "    return type(value) in (int, float)  # not True, nan or inf",
           ["tests/test_rogue_server.py", "-k", "huge"]),
    Mutant("the snapshot shares the game's own lists", f"{S5}/game.py",
           "        return copy.deepcopy(value)",
           "        return value",
           ["tests/test_rogue_server.py::test_a_game_survives_its_servers_mistake[position that is huge]"]),
    Mutant("a server's mistake is printed every time", f"{S5}/game.py",
           "        if (action, kind) in self.told:  # once: a server may repeat it every frame",
           "        if False:  # once: a server may repeat it every frame",
           ["tests/test_rogue_server.py::test_a_game_survives_its_servers_mistake[a list]"]),
    Mutant("draw() is not guarded", f"{S5}/game.py",
           "        except Exception as error:  # a last resort, as in update()",
           "        except ZeroDivisionError as error:  # a last resort, as in update()",
           ["tests/test_rogue_server.py", "-k", "frame_is_one_line and draw"]),
    # Nothing one sender does stalls the class (issue 31): the armour of every stage, put into one.
    Mutant("a message of any number of values is decoded whole", f"{S5}/server.py",
           "        if loads.values > MAX_VALUES:",
           "        if False:",
           ["tests/test_one_sender.py", "-k", "too_many_values and stage5 and poll"]),
    Mutant("a message costs the budget 1 whatever its work", "stage1_echo/server.py",
           "        self._server.spend(self.share, 1 + loads.values // WORK_VALUES + len(raw) // WORK_BYTES)",
           "        self._server.spend(self.share, 1)",
           ["tests/test_one_sender.py", "-k", "share_one_budget and poll"]),
    Mutant("each connection has a budget of its own", "stage1_echo/server.py",
           "        self.share = self._server.shares[self.addr[0]]  # its machine's (FairShare, below)",
           "        self.share = self._server.shares[self.addr]  # its machine's (FairShare, below)",
           ["tests/test_one_sender.py", "-k", "share_one_budget and poll"]),
    Mutant("an urgent byte is ignored", f"{S5}/server.py",
           '        self.cut("sent an urgent (out-of-band) byte, which no game sends")',
           "        pass",
           ["tests/test_one_sender.py", "-k", "urgent and stage5"]),
    Mutant("a game reads all that has arrived in one frame", f"{S5}/game.py",
           "        connection.ac_in_buffer_size = READ_BYTES  # what asynchat reads at a time: once a frame",
           "        pass  # what asynchat reads at a time: once a frame",
           ["tests/test_rogue_server.py", "-k", "flood_of_unknown and stage5"]),
    Mutant("a game prints a line for every kind of mistake", f"{S5}/game.py",
           "        if len(self.told) < MOST_LINES:",
           "        if True:",
           ["tests/test_rogue_server.py", "-k", "flood_of_unknown and stage5"]),
    Mutant("a game keeps every echo that never came back", f"{S5}/game.py",
           "            del self.echo_sent_at[next(iter(self.echo_sent_at))]",
           "            break",
           ["tests/test_rogue_server.py", "-k", "never_answers"]),
    # The class view's feed, and the seats an address holds (issue 31).
    Mutant("the feed takes whoever sends first, secret or not", "tools/classview.py",
           "            if len(heard) == len(self.secret) and hmac.compare_digest(heard, self.secret):",
           "            if heard:",
           ["tests/test_class_view.py", "-k", "reaches_the_feed and poll"]),
    Mutant("the feed takes any delay the window asks for", "tools/classview.py",
           "        if type(ms) is not int or ms not in self.offered:",
           "        if type(ms) is not int:",
           ["tests/test_class_view.py", "-k", "delays_the_window_offers and poll"]),
    Mutant("the feed's window marks no address that holds several seats", "tools/classview.py",
           "                        if getattr(channel, \"game\", None) is not None)",
           "                        if False)",
           ["tests/test_class_view.py", "-k", "more_than_one_seat"]),
    # Issue 32: bugs a class would notice.
    Mutant("a machine's token buckets never refill", f"{S5}/server.py",
           "    left = min(size, left + (now - at) * size / REFILL_SECONDS)",
           "    left = min(size, left)",
           ["tests/test_fair_share.py", "-k", "share_has_come_back and stage5"]),
    Mutant("the count of lines not shown is never reset", f"{S5}/server.py",
           "                share.unshown = None",
           "                pass",
           ["tests/test_fair_share.py", "-k", "count_of_lines_not_shown_stops and stage5"]),
    Mutant("a message's deadline restarts with every piece", f"{S5}/server.py",
           "            if self.whole_by is None:  # a new message starts: it too must be whole in time",
           "            if True:  # a new message starts: it too must be whole in time",
           ["tests/test_fair_share.py", "-k", "trickled and stage5"]),
    Mutant("the read budget has no cap", f"{S5}/server.py",
           "        share.budget = min(self.burst, share.budget + rate * (now - share.budget_at)) - cost",
           "        share.budget = share.budget + rate * (now - share.budget_at) - cost",
           ["tests/test_fair_share.py", "-k", "idled_first and stage5"]),
    Mutant("the net graph divides by GRAPH_SECONDS", f"{S5}/game.py",
           "            per_second.append((after[name] - before[name]) / max(now - then, SAMPLE_SECONDS))",
           "            per_second.append((after[name] - before[name]) / max(now - then, GRAPH_SECONDS))",
           ["tests/test_net_graph.py", "-k", "times_it_is_given and stage5"]),
    Mutant("one line per kind of mistake, whichever action made it", f"{S5}/game.py",
           "        if (action, kind) in self.told:  # once: a server may repeat it every frame",
           "        if kind in {seen for _, seen in self.told}:  # once: a server may repeat it every frame",
           ["tests/test_rogue_server.py", "-k", "two_different_mistakes"]),
    Mutant("a negative player number is taken", f"{S5}/game.py",
           "        if number is not None and not (type(number) is int and 0 <= number < players):",
           "        if number is not None and not (type(number) is int and number < players):",
           ["tests/test_rogue_server.py::test_a_game_survives_its_servers_mistake[startgame for player -1]"]),
    Mutant("stage 2 keeps 'Your opponent left' through the next game", "stage2_queue/game.py",
           "        self.notice = None",
           "        pass",
           ["tests/test_queue.py", "-k", "until_the_next_game and stage2"]),
    Mutant("stage 4 moves while it has no game", f"{S4}/game.py",
           "        if self.positions is not None and self.held:",
           "        if self.held:",
           ["tests/test_relay.py", "-k", "held_while_waiting and stage4"]),
    Mutant("the class view counts bytes sent as received", "tools/classview.py",
           "            self.view_counts[3] += size",
           "            self.view_counts[1] += size",
           ["tests/test_class_view.py", "-k", "bytes_each_way"]),
    Mutant("with the delay off, new messages overtake held ones", "tools/classview.py",
           "            if view.delay or self.held:  # in order: behind what is held already",
           "            if view.delay:  # in order: behind what is held already",
           ["tests/test_class_view.py", "-k", "overtakes"]),
    Mutant("a student who leaves takes their counts out of the totals", "tools/classview.py",
           "                view.gone = [a + b for a, b in zip(view.gone, channel.view_counts + [channel.dropped])]",
           "                pass",
           ["tests/test_class_view.py", "-k", "keeps_their_counts"]),
    Mutant("kit.py never installs a changed requirements file again", "tools/kit.py",
           "    missing = [name for name in wanted if stamp.get(name) != digest(name)]",
           "    missing = [name for name in wanted if name not in stamp]",
           ["tests/test_kit.py", "-k", "changed_requirements"]),
    Mutant("kit.py's each install forgets the earlier ones", "tools/kit.py",
           "    stamp.update({name: digest(name) for name in names})",
           "    stamp = {name: digest(name) for name in names}",
           ["tests/test_kit.py", "-k", "changed_requirements"]),
    Mutant("the bot turns before only two of the four walls", "tools/bot.py",
           "    return all(MARGIN <= point[axis] <= arena[axis] - MARGIN for axis in (0, 1))",
           "    return all(MARGIN <= point[axis] for axis in (0, 1))",
           ["tests/test_bot.py", "-k", "into_a_wall and stage5"]),
    Mutant("an unclosed teacher block is not refused", "tools/handouts.py",
           "    if markers != 2 * len(blocks):",
           "    if False:",
           ["tests/test_docs.py", "-k", "teacher_block_left_open"]),
    # A game introduces itself (issue 34): the armour of every stage, put into one.
    Mutant("a check takes a seat", f"{S5}/server.py",
           '        if hello.get("check") is True:',
           "        if False:",
           ["tests/test_introductions.py", "-k", "check_is_never and stage5 and poll"]),
    Mutant("a game of another stage is paired, not told", "stage3_startgame/server.py",
           "        if type(stage) is int and stage != STAGE_NUMBER:",
           "        if False:",
           ["tests/test_introductions.py", "-k", "another_stage and 4-3-poll"]),
    Mutant("the server shows any name", f"{S5}/server.py",
           "        if isinstance(name, str) and name_refused(name):",
           "        if False:",
           ["tests/test_introductions.py", "-k", "hides_or_turns and poll"]),
    Mutant("the game takes any name", f"{S5}/game.py",
           "    if args.name is not None and name_refused(args.name):",
           "    if False:",
           ["tests/test_introductions.py", "-k", "hides_or_turns and poll"]),
    Mutant("the hello says nothing of the game", "stage4_relay/game.py",
           '            message = {**message, "stage": STAGE_NUMBER, "name": self.name}',
           "            pass",
           ["tests/test_introductions.py", "-k", "another_stage and 4-3-poll"]),
    Mutant("game windows started one by one open at one place", "tools/kit.py",
           "                fcntl.flock(place, fcntl.LOCK_EX | fcntl.LOCK_NB)",
           "                pass",
           ["tests/test_introductions.py", "-k", "side_by_side"]),
]


def tracked_files():
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    return [name for name in listed.decode().split("\0") if name and (ROOT / name).is_file()]


def check(mutants):
    """Every mutant's line occurs exactly once in its file; every name is different. Stops if not."""
    problems = []
    for mutant in mutants:
        lines = (ROOT / mutant.file).read_text().splitlines()
        found = lines.count(mutant.original)
        if found != 1:
            problems.append(f"{mutant.name}: its line occurs {found} times in {mutant.file}, not once:\n"
                            f"    {mutant.original!r}")
        if mutant.replacement == mutant.original:
            problems.append(f"{mutant.name}: its replacement is the original line")
    names = [mutant.name for mutant in mutants]
    problems += [f"two mutants are named {name!r}" for name in sorted({n for n in names if names.count(n) > 1})]
    if problems:
        sys.exit("tests/mutants.py: the list of mutants is out of date:\n" + "\n".join(problems))


def copy_of_the_kit(files, into):
    for name in files:
        target = into / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)


def below_the_armour(lines, line):
    """Whether `line` is one of `lines` after the line that starts with ARMOUR."""
    start = next((n for n, text in enumerate(lines) if text.startswith(ARMOUR)), None)
    return start is not None and line in lines[start + 1:]


def every_stage(mutant):
    """The files a mutant goes into for the whole suite: a bug in the armour into every stage's
    file of that name that holds its line below "# Armour"; any other bug into its own file."""
    folder, name = Path(mutant.file).parent, Path(mutant.file).name
    if not (re.fullmatch(r"stage\d+_\w+", str(folder)) and name in ("server.py", "game.py")
            and below_the_armour((ROOT / mutant.file).read_text().split("\n"), mutant.original)):
        return [mutant.file]
    return [f"{stage.name}/{name}" for stage in sorted(ROOT.glob("stage*_*"))
            if (stage / name).exists() and below_the_armour((stage / name).read_text().split("\n"), mutant.original)]


def apply(mutant, copy, files):
    for name in files:
        path = copy / name
        lines = path.read_text().split("\n")
        lines[lines.index(mutant.original)] = mutant.replacement
        path.write_text("\n".join(lines))


def run_tests(tests, copy, timeout=MOST_SECONDS):
    """(pytest's exit code, its first failing test's id, or a reason it did not run)."""
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-rf", *tests]
    try:
        done = subprocess.run(command, cwd=copy, env={**os.environ, **HEADLESS}, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"still running after {timeout} s"
    failed = re.search(r"^(?:FAILED|ERROR) (.+?)(?: - .*)?$", done.stdout, re.MULTILINE)  # ids may hold spaces
    if done.returncode == 1 and failed:
        return 1, failed.group(1)
    if done.returncode == 0:
        return 0, re.sub(r"\s+", " ", done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else ""
    tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
    return done.returncode, f"pytest exited with {done.returncode}: " + " | ".join(tail)


def tried(mutant, files, tests, into=None, timeout=MOST_SECONDS):
    """run_tests() in a fresh copy of the kit, the mutant put into the files `into` (by default
    its own; [] for none)."""
    with tempfile.TemporaryDirectory(prefix="mutant-") as folder:
        copy = Path(folder)
        copy_of_the_kit(files, copy)
        apply(mutant, copy, [mutant.file] if into is None else into)
        return run_tests(tests, copy, timeout)


def main():
    parser = argparse.ArgumentParser(description="Put small bugs into a copy of the kit; the tests must catch each.")
    parser.add_argument("names", nargs="*", help="run only the mutants whose names contain one of these")
    parser.add_argument("--list", action="store_true", help="list the mutants, and run nothing")
    parser.add_argument("--clean", action="store_true",
                        help="run each mutant's tests on an unchanged copy: they must pass")
    parser.add_argument("--no-whole", action="store_true",
                        help="report a mutant its tests miss at once, without trying it on the whole suite")
    args = parser.parse_args()
    check(MUTANTS)
    chosen = [m for m in MUTANTS if not args.names or any(word in m.name for word in args.names)]
    if not chosen:
        sys.exit(f"No mutant's name contains any of {args.names}; --list shows them.")
    width = max(len(m.name) for m in chosen)
    if args.list:
        for mutant in chosen:
            print(f"{mutant.name:<{width}}  {mutant.file}  {' '.join(mutant.tests)}")
        return 0
    files, started, missed, late = tracked_files(), time.monotonic(), [], []
    for number, mutant in enumerate(chosen, 1):
        began = time.monotonic()
        code, what = tried(mutant, files, mutant.tests, into=[] if args.clean else None)
        if args.clean:
            verdict = "passes" if code == 0 else f"FAILS  {what}"
            missed += [mutant.name] * (code != 0)
        elif code == 1:
            verdict = f"caught by {what}"
        elif args.no_whole:
            verdict = "SURVIVED its tests" + (f"  ({what})" if code != 0 else "")
            missed.append(mutant.name)
        else:
            whole, found = tried(mutant, files, ["tests"], into=every_stage(mutant), timeout=WHOLE_SECONDS)
            if whole == 1:
                verdict = f"caught only by the whole suite, by {found}"
                late.append(mutant.name)
            else:
                verdict = ("SURVIVED its tests and the whole suite" +
                           (f"  ({what}; the whole suite: {found})" if code or whole else ""))
                missed.append(mutant.name)
        seconds = time.monotonic() - began
        print(f"{number:>2}. {mutant.name:<{width}}  {seconds:5.0f} s  {verdict}", flush=True)
    minutes, seconds = divmod(round(time.monotonic() - started), 60)
    if args.clean:
        print(f"{len(chosen) - len(missed)} of {len(chosen)} mutants' tests pass on an unchanged copy, "
              f"in {minutes} min {seconds} s")
    else:
        own = len(chosen) - len(missed) - len(late)
        whole = "not tried on the whole suite" if args.no_whole else f"{len(late)} only by the whole suite"
        print(f"{len(chosen)} mutants: {own} caught by their own tests, {whole}, {len(missed)} by none, "
              f"in {minutes} min {seconds} s")
    return 1 if missed or late else 0


if __name__ == "__main__":
    sys.exit(main())
