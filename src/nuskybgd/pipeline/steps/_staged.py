"""A reporter for work that writes into an :func:`~nuskybgd.io.staging.atomic_set` staging folder:
every event goes to the step's reporter except the staging paths' output events (the step
reports the final paths after the commit)."""

from __future__ import annotations

from nuskybgd.events import OutputEvent, Reporter, StepEvent


class StagedReporter(Reporter):
    """Forwards to ``parent`` (same cancel token), dropping :class:`OutputEvent`."""

    def __init__(self, parent: Reporter) -> None:
        super().__init__(sink=None, cancel=parent.cancel)
        self._parent = parent

    def emit(self, event: StepEvent) -> None:
        """Hand ``event`` to the parent reporter unless it names a staged file."""
        if not isinstance(event, OutputEvent):
            self._parent.emit(event)
