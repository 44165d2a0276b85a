"""The command palette's wizard commands: open a step, run, cancel, copy the command line."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

__all__ = ["WizardCommands"]


class WizardCommands(Provider):
    """Every stage ("Open step: Fit") and the step actions, searchable by name."""

    def _commands(self) -> list[tuple[str, object, str]]:
        app = self.app
        commands: list[tuple[str, object, str]] = []
        for stage in getattr(app, "stages", ()):
            commands.append((f"Open step: {stage.title}", partial(app.call_later, app.open_stage, stage.id),
                             stage.help.split(".")[0] if stage.help else ""))
        commands += [
            ("Run this step", app.action_run_step, "run the step shown (r)"),
            ("Run this step for every module", app.action_run_stage, "R"),
            ("Cancel the running step", app.action_cancel_step, "c"),
            ("Copy the command line", app.action_copy_command, "y"),
            ("Help for this step", app.action_step_help, "?"),
        ]
        return commands

    async def discover(self) -> Hits:
        for text, callback, help_text in self._commands():
            yield DiscoveryHit(text, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, callback, help_text in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback, help=help_text)
