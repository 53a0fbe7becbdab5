"""``paperbot judge export``: the LLM judge's cached verdicts, as the JSONL ``--judge-answers`` reads."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from bot.cli.app import App, pass_app


@click.group("judge")
def judge_group() -> None:
    """The optional LLM judge's cached verdicts (``[judge]`` settings, PAPERBOT_LLM_*)."""


@judge_group.command("export")
@click.option("--output", "-o", "output_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the verdicts to this file (JSONL) instead of stdout.")
@click.option("--model", default=None, help="The judge model whose verdicts to export (default: the "
                                            "[judge] model, PAPERBOT_LLM_MODEL).")
@pass_app
def export_cmd(app: App, output_path: Path | None, model: str | None) -> None:
    """Export the cached verdicts of one judge model and the current prompt version, one JSON object a
    line, sorted by arXiv id: arxiv_id, label, secondary, reason, model, prompt_version. That is the
    recorded-answers file that `paperbot evaluate --judge-answers` and `paperbot train --judge-answers`
    read. Nothing is asked: the judge need not be reachable, nor even configured.

    \b
    Example:
        paperbot judge export --output verdicts.jsonl
        paperbot judge export --model qwen2.5:7b-instruct | wc -l
    """
    from bot.core.files import check_output
    from bot.judge.prompt import PROMPT_VERSION
    from db.judge import cached_verdicts
    from db.session import session_scope

    name = model or app.settings.judge.model
    with session_scope(app.engine) as session:
        verdicts = cached_verdicts(session, name, PROMPT_VERSION)
    lines = [json.dumps({"arxiv_id": arxiv_id, "label": v.label.value,
                         "secondary": v.secondary.value if v.secondary else None, "reason": v.reason,
                         "model": v.model, "prompt_version": v.prompt_version}, ensure_ascii=False)
             for arxiv_id, v in sorted(verdicts.items())]
    text = "".join(line + "\n" for line in lines)
    if output_path is None:
        sys.stdout.write(text)
    else:
        check_output(output_path, app.settings.database_url)
        try:
            output_path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"cannot write {output_path}: {exc.strerror or exc}") from None
    click.echo(f"exported {len(lines)} verdicts of {name} ({PROMPT_VERSION})"
               + (f" into {output_path}" if output_path else ""), err=True)


COMMANDS: list[click.Command] = [judge_group]
