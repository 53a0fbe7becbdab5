"""The LLM judge's cached verdicts: one row per paper, judge model and prompt version (``judge_verdicts``).

Written by the pipeline after each answer (``bot/pipeline/judging.py``), read before asking (a cached paper is
never asked again) and when the pull request is built. A new model or prompt version asks afresh.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.labels import Label
from bot.core.models import JudgeVerdict
from db.schema import JudgeVerdictRow
from db.store import to_db, utcnow
from db.upsert import upsert


def _verdict(row: JudgeVerdictRow) -> JudgeVerdict:
    secondary = Label(row.secondary) if row.secondary and row.secondary in Label._value2member_map_ else None
    return JudgeVerdict(label=Label(row.label), secondary=secondary, reason=row.reason, model=row.model,
                   prompt_version=row.prompt_version)


def cached_verdicts(session: Session, model: str, prompt_version: str,
                    arxiv_ids: Iterable[str] | None = None) -> dict[str, JudgeVerdict]:
    """The stored verdicts of this judge (model and prompt version), of ``arxiv_ids`` or of every paper."""
    query = select(JudgeVerdictRow).where(JudgeVerdictRow.model == model,
                                          JudgeVerdictRow.prompt_version == prompt_version)
    if arxiv_ids is not None:
        ids = list(arxiv_ids)
        found: dict[str, JudgeVerdict] = {}
        for start in range(0, len(ids), 500):  # SQLite's bound-parameter limit
            chunk = query.where(JudgeVerdictRow.arxiv_id.in_(ids[start:start + 500]))
            found.update({row.arxiv_id: _verdict(row) for row in session.scalars(chunk)})
        return found
    return {row.arxiv_id: _verdict(row) for row in session.scalars(query)}


def save_verdict(session: Session, arxiv_id: str, verdict: JudgeVerdict) -> None:
    upsert(session, JudgeVerdictRow, [dict(
        arxiv_id=arxiv_id, model=verdict.model, prompt_version=verdict.prompt_version,
        label=verdict.label.value, secondary=verdict.secondary.value if verdict.secondary else None,
        reason=verdict.reason, judged_at=to_db(utcnow()))])
