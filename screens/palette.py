"""The command palette's list of war-room actions, read from the live bindings."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from functools import partial

from textual.actions import parse as parse_action
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode

# offered by Textual's own provider already
SYSTEM_ACTIONS = frozenset({"quit", "command_palette", "app.quit", "app.command_palette"})


def offered(node: DOMNode, action: str) -> bool:
    """Whether the node that owns the binding offers ``action`` now (its ``check_action``,
    as the footer asks: read-only hides every change to production)."""
    namespace, name, parameters = parse_action(action)
    target: DOMNode = node.app if namespace == "app" else node
    if namespace == "screen":
        target = node.screen
    return target.check_action(name, parameters) is not False


class ActionsProvider(Provider):
    """Every bound action of the screen the palette was opened on, and of the app, that
    the war room offers (none that changes production when read-only)."""

    def _actions(self) -> list[tuple[str, str, Callable[[], object]]]:
        target: DOMNode = self.screen  # the calling screen, not the palette
        found: dict[str, tuple[str, str, Callable[[], object]]] = {}
        for node in (target, self.app):
            for bindings in node._bindings.key_to_bindings.values():
                for binding in bindings:
                    if (not binding.description or binding.action in found
                            or binding.action in SYSTEM_ACTIONS
                            or not offered(node, binding.action)):
                        continue
                    keys = self.app.get_key_display(binding)
                    run = partial(self.app.run_action, binding.action, node)
                    found[binding.action] = (binding.tooltip or binding.description,
                                             f"key: {keys}", run)
        return list(found.values())

    async def discover(self) -> Hits:
        for name, help_text, run in self._actions():
            yield DiscoveryHit(name, run, help=help_text)

    async def search(self, query: str) -> AsyncGenerator[Hit, None]:
        matcher = self.matcher(query)
        for name, help_text, run in self._actions():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=help_text)
