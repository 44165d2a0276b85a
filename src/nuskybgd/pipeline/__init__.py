"""Pipeline: every user-visible action as a declared step, the session that records what was run,
the runner, and read-only views of the products.  The CLI, the batch runner and the wizard use
only this package (the wizard imports nothing below it)."""

from nuskybgd.errors import InputError, NuskybgdError, OutputExistsError
from nuskybgd.events import (
    Cancelled,
    CancelToken,
    LogEvent,
    OutputEvent,
    ProgressEvent,
    Reporter,
    ResultEvent,
    Silent,
    StepEvent,
)
from nuskybgd.pipeline import views
from nuskybgd.pipeline.params import REQUIRED, Param, format_value
from nuskybgd.pipeline.plan import StepInstance
from nuskybgd.pipeline.runner import STATUSES, Runner
from nuskybgd.pipeline.session import SESSION_NAME, Session, SessionLocked
from nuskybgd.pipeline.stages import STAGES, Stage
from nuskybgd.pipeline.step import Step, StepResult

__all__ = [
    "Cancelled", "CancelToken", "LogEvent", "OutputEvent", "ProgressEvent", "Reporter", "ResultEvent",
    "Silent", "StepEvent", "views", "REQUIRED", "Param", "StepInstance", "STATUSES", "Runner",
    "SESSION_NAME", "Session", "SessionLocked", "STAGES", "Stage", "Step", "StepResult",
    "InputError", "NuskybgdError", "OutputExistsError", "format_value",
]
