"""Pipeline steps: every user-visible action, shared by the CLI, the batch runner and the wizard."""

from nuskybgd.pipeline.step import Reporter, Step, StepResult

__all__ = ["Reporter", "Step", "StepResult"]
