"""What every benchmark gets: how much to do, the app, and who signs tokens."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from bench.harness import Handlers
from bench.stage import Identity


@dataclass(frozen=True)
class Sizes:
    """Repetitions and sizes: the full run, or a quick one that only proves it runs."""

    cold_reps: int
    calls_reps: int
    tput_messages: int
    tput_reps: int
    list_small: int
    list_large: int
    # Seeding stops here even short of `list_large` (moto is slow); both are told.
    list_seed_budget_s: float
    latency_uploads: int
    # The latency run stops here even short of `latency_uploads` (both told).
    latency_budget_s: float


FULL = Sizes(
    cold_reps=7,
    calls_reps=3,
    tput_messages=20,
    tput_reps=5,
    list_small=1_000,
    list_large=100_000,
    list_seed_budget_s=150.0,
    latency_uploads=100,
    latency_budget_s=120.0,
)
QUICK = Sizes(
    cold_reps=1,
    calls_reps=1,
    tput_messages=10,
    tput_reps=1,
    list_small=100,
    list_large=1_000,
    list_seed_budget_s=20.0,
    latency_uploads=5,
    latency_budget_s=10.0,
)


@dataclass(frozen=True)
class Context:
    sizes: Sizes
    quick: bool
    identity: Identity
    jwks_url: str
    module: ModuleType
    handlers: Handlers
