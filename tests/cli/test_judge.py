"""``paperbot classify`` asking the LLM judge (the loopback OpenAI-compatible server) and ``paperbot judge
export`` writing its verdicts as the recorded answers ``--judge-answers`` reads (bot/cli/judge.py)."""

from __future__ import annotations

import json
from pathlib import Path

from bot.core.labels import Label
from classifier.hybrid import Answer, load_answers
from db import store
from db.session import open_database, session_scope
from tests.support.cli import HASHING
from tests.support.llm_server import LLMServer
from tests.support.store import paper

PAPERS = {"2601.00001": "Post-training quantization of diffusion transformers",
          "2601.00002": "Token pruning for fast video diffusion",
          "2601.00003": "A survey of graph neural networks",
          "2601.00004": "Consistency distillation for one-step image generation"}


def test_classify_asks_the_judge_and_export_writes_its_verdicts(invoke, cli_env: Path,  # type: ignore[no-untyped-def]
                                                                 llm_server: LLMServer) -> None:
    (cli_env / "paperbot.toml").write_text(
        HASHING + "[judge]\nband_low = 0.0\nband_high = 1.0\nmax_papers_per_run = 3\n"
        "max_share_per_run = 1.0\nseconds_between_requests = 0.0\n")
    engine = open_database(f"sqlite:///{cli_env / 'paperbot.db'}")
    with session_scope(engine) as session:
        store.upsert_papers(session, [paper(i, title=t) for i, t in PAPERS.items()])
    engine.dispose()
    llm_server.verdicts["2601.00003"] = {"label": "irrelevant", "secondary": None, "reason": "Graphs."}
    env = {"PAPERBOT_LLM_URL": llm_server.url, "PAPERBOT_LLM_MODEL": "test/judge",
           "PAPERBOT_LLM_TOKEN": "sk-LOOPBACK-SECRET"}
    result = invoke("classify", env=env)
    assert result.exit_code == 0, result.output
    assert "LLM judge: asked about 3 papers, 3 verdicts (3 requests); 0 had a verdict already" in \
        result.output
    asked = [r.data["arxiv_id"] for r in llm_server.requests]
    assert len(asked) == 3 and len(set(asked)) == 3
    assert "sk-LOOPBACK-SECRET" not in result.output

    out = cli_env / "verdicts.jsonl"
    exported = invoke("judge", "export", "--output", str(out), env={"PAPERBOT_LLM_MODEL": "test/judge"})
    assert exported.exit_code == 0, exported.output
    assert "exported 3 verdicts of test/judge (judge-v1) into" in exported.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["arxiv_id"] for r in rows] == sorted(asked)
    assert set(rows[0]) == {"arxiv_id", "label", "secondary", "reason", "model", "prompt_version"}
    expected = {i: Answer(Label(v["label"]), None, v["reason"])
                for i in asked for v in [llm_server.verdicts.get(i, llm_server.default)]}
    assert load_answers(out) == expected  # what the export writes is what --judge-answers reads
    # another model's verdicts: none; the database file itself is never overwritten
    other = invoke("judge", "export", "--model", "other/model")
    assert other.exit_code == 0 and other.stdout == ""
    assert "exported 0 verdicts of other/model" in other.output
    clobber = invoke("judge", "export", "--output", "paperbot.db")
    assert clobber.exit_code == 1 and "is the paper database" in clobber.output
