"""The scoring library's inputs: factors, ballots, rater history and the method that scores them.

Plain frozen dataclasses with no framework imports, so the round close, the CLI and anyone holding an
exported CSV build exactly the same values.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any, Literal

#: Bumped by hand whenever the algorithm changes in a way the parameters below do not capture.
ALGORITHM = "rh-score/8"

#: The middle of the 1–5 heart scale: the prior when a category has no published history.
SCALE_MIDPOINT = 3.0
SCALE_MIN = 1
SCALE_MAX = 5

IntervalKind = Literal["t"]


@dataclass(frozen=True)
class FactorSpec:
    """One factor of a round: its key, labels, weight in the overall, and prior mean (None = midpoint)."""

    key: str
    label_en: str
    label_zh: str
    weight: float = 1.0
    prior: float | None = None

    @property
    def prior_mean(self) -> float:
        """The mean the factor's score is shrunk toward."""
        return SCALE_MIDPOINT if self.prior is None else self.prior

    def label(self, lang: str) -> str:
        """The factor's label in `lang` ("zh" or anything else for English)."""
        return self.label_zh if lang == "zh" else self.label_en

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FactorSpec:
        prior = data.get("prior")
        return cls(
            key=str(data["key"]),
            label_en=str(data.get("label_en", data["key"])),
            label_zh=str(data.get("label_zh", data.get("label_en", data["key"]))),
            weight=float(data.get("weight", 1.0)),
            prior=None if prior is None else float(prior),
        )


@dataclass(frozen=True)
class BallotRecord:
    """One submitted ballot: answers per factor key are 1–5, or None for "not sure"; a missing key
    means the factor was not answered at all."""

    ballot: str
    rater: str
    started_at: datetime
    submitted_at: datetime
    owned_days: int | None
    excluded_by_admin: bool
    answers: Mapping[str, int | None]

    @property
    def duration_seconds(self) -> float:
        return (self.submitted_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class RaterHistory:
    """How a rater rated in earlier rounds: mean of (answer − that round's consensus) over `count`
    answers. Used only by the leniency correction."""

    offset: float
    count: int


@dataclass(frozen=True)
class Method:
    """Every threshold and setting that can change a score. `version` names them all."""

    # screening (scoring/screening.py): hard evidence; a ballot it catches counts for nothing
    #: A speeder took less than this share of the round's median time for a ballot ...
    speeder_median_ratio: float = 0.5
    #: ... or less than this many seconds a factor (on the round's factors and on those it answered).
    speeder_floor_seconds_per_factor: float = 2.0
    #: One and the same answer on at least this many factors is reported as a straight line.
    straight_line_min_factors: int = 5
    #: A ballot with more than this share of its factors "not sure" says too little to count.
    mostly_unsure_ratio: float = 0.5
    #: A rater must have owned the product this many days to judge it.
    min_ownership_days: int = 7
    # weighting (scoring/weighting.py explains each, with the red-team numbers that chose it)
    #: Biweight cut-off, in robust standard deviations, for one answer against the rater's own others.
    answer_cutoff: float = 5.0
    #: Biweight cut-off, in robust standard deviations, for a rater's offset from the crowd.
    offset_cutoff: float = 4.0
    #: Biweight cut-off for the root-mean-square of a ballot's standardised residuals: honest answers
    #: scatter about 1 around the rater's own level, a random clicker's about 2.
    noise_cutoff: float = 2.2
    #: The most of the counted ballots' weight the offset test may reject: above it the round is
    #: taken as honestly divided (a polarising product), and offsets are judged against everyone.
    max_rejected_share: float = 0.4
    #: No ballot pulls the overall more than this many times the round's median pull per ballot.
    pull_cap: float = 2.0
    # aggregation
    #: Pseudo-count of the prior in the Bayesian average. 3 ≈ σ²/τ²: answer variance (~1 heart²)
    #: over the spread of true product means within a category (~0.35 heart²); see aggregate.py.
    prior_weight: float = 3.0
    min_factor_n: int = 10
    min_ballots: int = 30
    confidence: float = 0.95
    interval: IntervalKind = "t"
    # leniency correction (see aggregate.py): off, its simulated gain is below the 0.01 a report shows
    leniency: bool = False
    #: A rater's historical offset is shrunk by count / (count + leniency_shrink) before use.
    leniency_shrink: float = 10.0

    def __post_init__(self) -> None:
        if not 0 < self.confidence < 1:
            raise ValueError(f"confidence must be in (0, 1), got {self.confidence}")
        if self.prior_weight < 0:
            raise ValueError(f"prior_weight must be >= 0, got {self.prior_weight}")
        if self.interval != "t":
            raise ValueError(f"unknown interval kind {self.interval!r}")
        if self.min_factor_n < 2:
            raise ValueError("min_factor_n must be at least 2 so an interval exists")

    @property
    def version(self) -> str:
        """`rh-score/1+<8 hex>`: the algorithm and a hash of every parameter."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(f"{ALGORITHM}|{canonical}".encode()).hexdigest()[:8]
        return f"{ALGORITHM}+{digest}"

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Method:
        """Build a Method from `to_dict()` output; unknown keys are refused, missing keys default."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known) - {"version", "algorithm"})
        if unknown:
            raise ValueError(f"unknown method parameters: {', '.join(unknown)}")
        kwargs: dict[str, Any] = {}
        for name, value in data.items():
            if name in ("version", "algorithm"):
                continue
            default = getattr(cls(), name)
            if isinstance(default, bool):
                kwargs[name] = bool(value)
            elif isinstance(default, int):
                kwargs[name] = int(value)
            elif isinstance(default, float):
                kwargs[name] = float(value)
            else:
                kwargs[name] = value
        return cls(**kwargs)


def method_document(method: Method, factors: list[FactorSpec] | tuple[FactorSpec, ...]) -> dict[str, Any]:
    """The content of `F.method.json`: the method's version and parameters, and the round's factors
    with their weights and priors — everything needed to recompute a round's numbers."""
    return {
        "version": method.version,
        "method": method.to_dict(),
        "factors": [f.to_dict() for f in factors],
    }


def parse_method_document(data: Mapping[str, Any]) -> tuple[Method, list[FactorSpec]]:
    """Read back `method_document()` output. A recorded version that no longer matches the
    parameters means the file was edited or written by another algorithm: refused."""
    method = Method.from_dict(data.get("method", {}))
    recorded = data.get("version")
    if recorded is not None and recorded != method.version:
        raise ValueError(f"method version {recorded!r} does not match its parameters ({method.version})")
    factors = [FactorSpec.from_dict(f) for f in data.get("factors", [])]
    return method, factors
