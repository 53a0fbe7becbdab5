"""The pipeline: the stages and their bookkeeping, the run that orders them, the scheduler, health."""
