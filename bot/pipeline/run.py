"""The main job, ``paperbot run``: fetch → embed → classify → read the list → learn → render → publish.

A dry run by default: it writes the proposed README, the PR body, the diff and a JSON report into the
output folder. ``--open-pr`` publishes the one rolling pull request (and closes it when nothing is left).
The list and the bot's pull requests are the ground truth: "already listed", "already proposed" and
"rejected" are re-derived from them on every run, so a lost database costs one slower run, never a
duplicate proposal.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from sqlalchemy import Engine

from bot.awesome.entries import code_url_for
from bot.awesome.insert import insert_entries, parse_list, render_diff
from bot.awesome.prbody import render_pr_body, with_declined
from bot.awesome.review import parse_review_ticks
from bot.core.config import Settings
from bot.core.errors import BotError, PublishError
from bot.core.labels import Label
from bot.core.models import Addition, JudgeVerdict, Paper, Prediction, RunReport
from bot.core.states import ProposalState, RunStatus
from bot.pipeline import judging, stages
from bot.pipeline.learn import declined_in, learn
from db import decisions, store
from db.session import session_scope

if TYPE_CHECKING:
    from bot.github.pulls import Publisher
    from classifier.embed import Embedder

log = logging.getLogger(__name__)

REVIEW_WINDOW = timedelta(days=30)  # borderline papers stay in the PR body's review list this long
# (then they are listed, collapsed and without checkboxes, under "older papers that needed review")
COMMIT_MESSAGE = "paperbot: add new papers to the list"
CLOSE_COMMENT = "Nothing is left to add: every paper this pull request proposed is now listed or declined."


@dataclass(frozen=True)
class RunOptions:
    out_dir: Path
    list_path: Path | None = None
    open_pr: bool = False
    fetch: bool = True
    since: datetime | None = None
    until: datetime | None = None
    retry_not_found: bool = False  # search arXiv again for list titles it did not find lately
    progress: Callable[[str, str], AbstractContextManager[stages.Progress | None]] | None = None  # CLI bars

    def bar(self, description: str, unit: str = "papers") -> AbstractContextManager[stages.Progress | None]:
        return self.progress(description, unit) if self.progress else nullcontext()


@dataclass
class Outcome:
    report: RunReport
    diff: str
    changed: bool


@contextmanager
def _timed(report: RunReport, step: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        report.timings[step] = round(time.perf_counter() - start, 3)


def _publisher(settings: Settings, options: RunOptions) -> Publisher | None:
    if not options.open_pr and options.list_path is not None:
        return None
    if not settings.github.repository:
        if options.open_pr:
            raise PublishError("--open-pr needs GITHUB_REPOSITORY (owner/name) and GITHUB_TOKEN")
        raise BotError("no list to read: pass --list PATH, or set GITHUB_REPOSITORY (and GITHUB_TOKEN) "
                       "to read it from GitHub")
    from bot.github.pulls import open_publisher

    return open_publisher(settings.github)


def run(settings: Settings, engine: Engine, options: RunOptions, *,
        embedder: Embedder | None = None) -> Outcome:
    if options.out_dir.exists() and not options.out_dir.is_dir():
        raise BotError(f"out_dir {options.out_dir} is a file; it must be a folder (or not exist yet)")
    report = RunReport()
    with session_scope(engine) as session:
        report.run_id = store.start_run(session, "run")
    publisher = None
    try:
        with stages.failing_run(engine, report.run_id):  # any error, Ctrl-C included, ends the run failed
            publisher = _publisher(settings, options)
            outcome = _run(settings, engine, options, report, publisher, embedder)
            with session_scope(engine) as session:
                store.finish_run(session, report.run_id, RunStatus.SUCCESS, fetched=report.fetched,
                                 new=report.new, updated=report.updated, skipped=report.skipped)
    except BaseException as exc:
        report.status = RunStatus.FAILED
        report.errors.append(stages.error_text(exc))
        _write_report(options.out_dir, report)
        raise
    finally:
        if publisher is not None:
            publisher.close()
    _write_report(options.out_dir, report)
    _write_step_summary(settings, report)
    return outcome


def _run(settings: Settings, engine: Engine, options: RunOptions, report: RunReport,
         publisher: Publisher | None, embedder: Embedder | None) -> Outcome:
    if options.fetch:
        with _timed(report, "fetch"), options.bar("arXiv") as progress:
            fetched = stages.fetch(settings, engine, since=options.since, until=options.until,
                                   progress=progress)
        report.fetched, report.new, report.updated = fetched.fetched, fetched.new, fetched.updated
        report.skipped = fetched.skipped + fetched.unchanged
    path = settings.list.path
    with _timed(report, "read_list"):
        if options.list_path is not None:
            try:
                readme, base_sha = options.list_path.read_text(encoding="utf-8"), None
            except (OSError, UnicodeDecodeError) as exc:
                raise BotError(f"cannot read the list {options.list_path}: {exc}") from None
        else:
            assert publisher is not None, "_publisher gives one whenever no --list is given"
            readme, base_sha = publisher.read_file(path)
        doc = parse_list(readme)
        open_pr = publisher.open_pr(path) if publisher else None
        ticks = parse_review_ticks(open_pr.body) if open_pr else {}  # before anything rewrites the body
        history = publisher.bot_pull_requests("closed", path=None) if publisher else []
        with options.bar("searching arXiv for list titles", "titles") as progress:
            resolution = stages.resolve_list(settings, engine, doc, retry_not_found=options.retry_not_found,
                                             progress=progress)
    listed = resolution.listed
    with _timed(report, "learn"):
        learned = learn(settings, engine, listed, history, open_pr)
    embedder = embedder or stages.make_embedder(settings)
    with _timed(report, "embed"), options.bar("embedding") as progress:
        report.embedded = stages.embed(engine, embedder, progress=progress)
    classified: dict[str, Prediction] = {}
    with _timed(report, "classify"):
        if stages.unclassified_count(engine):  # a quiet run trains nothing
            with options.bar("embedding the corpus", "texts") as progress:
                model = stages.train(settings, engine, embedder, progress=progress)
            classified = stages.classify(settings, engine, model, embedder)
            report.classified = len(classified)
    if settings.judge.enabled:  # the least confident of this run's papers and of those left for review
        with _timed(report, "judge"):
            wanted = {**_left_for_review(settings, engine, listed), **classified}
            if wanted:
                report.judged = len(judging.judge_predictions(settings, engine, wanted).verdicts)
    additions, review, older, turned_away = candidates(settings, engine, listed)
    report.turned_away = len(turned_away)
    with _timed(report, "render"):
        insertion = insert_entries(readme, additions, settings.list)
    added = list(insertion.added)
    report.proposed, report.needs_review = len(added), len(review)
    report.already_listed = len(insertion.skipped)
    # Only what the PR holds: run-by-run counts (fetched, classified) live in the report, so a run with
    # nothing new leaves the body byte-identical and makes no write.
    counts = {"proposed": len(added), "needs review": len(review)}
    if turned_away:
        counts["turned away by the judge"] = len(turned_away)
    declined = declined_in(engine, open_pr)
    body = render_pr_body(added, review, counts, sections=settings.list.sections, declined=declined,
                          older=older, review_days=REVIEW_WINDOW.days, ticked=ticks,
                          turned_away=turned_away) if added else ""
    diff = render_diff(readme, insertion.readme, path)
    _write_outputs(options.out_dir, insertion.readme, body, diff)
    changed = bool(added)
    report.message = (f"{len(added)} papers proposed" if changed else "no changes") + (
        f"; learned {len(learned)} decisions" if learned else "")
    if options.open_pr and publisher is not None:
        with _timed(report, "publish"):
            if changed:
                result = publisher.publish(path, insertion.readme, settings.github.pr_title, body,
                                           commit_message=COMMIT_MESSAGE, base_sha=base_sha)
                report.pr_url = result.url
                proposed = {a.paper.arxiv_id: Label(a.label) for a in added}
                with session_scope(engine) as session:
                    decisions.record_open(session, result.number, proposed)
            else:
                closed = publisher.close_pr(CLOSE_COMMENT, body=with_declined(open_pr.body, declined)
                                            if declined else None) if open_pr else None
                with session_scope(engine) as session:
                    decisions.record_open(session, None, {})
                if closed:
                    report.message += f"; closed pull request #{closed}"
    report.status = RunStatus.SUCCESS
    return Outcome(report, diff, changed)


class Candidates(NamedTuple):
    additions: list[Addition]  # to insert into the list
    review: list[Addition]  # borderline, published within REVIEW_WINDOW: the review list's checkboxes
    older: list[Addition]  # borderline, published before that: listed collapsed
    # published within REVIEW_WINDOW, which the local model would have proposed or asked about and the LLM
    # judge labelled irrelevant: listed collapsed, with the judge's reason
    turned_away: list[Addition]


def _left_for_review(settings: Settings, engine: Engine, listed: dict[str, Label]) -> dict[str, Prediction]:
    """The stored predictions of the papers left in needs-review by earlier runs, which nobody decided and
    the judge has no verdict on yet: asked about with this run's papers, within the same cap."""
    waiting = candidates(settings, engine, listed)
    ids = {a.paper.arxiv_id for a in (*waiting.review, *waiting.older)}
    if not ids:
        return {}
    with session_scope(engine) as session:
        return {arxiv_id: p for arxiv_id, p in store.predictions(session).items() if arxiv_id in ids}


def candidates(settings: Settings, engine: Engine, listed: dict[str, Label]) -> Candidates:
    """What to propose: open proposals (kept as the maintainers last saw them, or as they filed them in the
    review list) and new relevant papers; and the borderline papers nobody has decided."""
    now = store.utcnow()
    verdicts = judging.judged(settings, engine)  # the LLM judge's, when it is on: they file the paper
    with session_scope(engine) as session:  # the papers that may be proposed, not every paper stored
        predictions = store.predictions(session, proposable=True)
        rejected = decisions.rejected_ids(session)
        open_rows = {p.arxiv_id: p for p in decisions.proposals(session, ProposalState.OPEN)}
        settled = {p.arxiv_id for p in decisions.proposals(session) if p.state == ProposalState.MERGED}
        blocked = rejected | set(listed) | settled
        predictions.update(store.predictions(session, (set(open_rows) | set(verdicts)) - set(predictions)))
        wanted = sorted((set(predictions) | set(open_rows)) - blocked)
        papers = store.get_papers(session, wanted)
    additions: list[Addition] = []
    review: list[Addition] = []
    older: list[Addition] = []
    turned_away: list[Addition] = []
    doubt = settings.classifier.uncertain_section_below
    for arxiv_id in wanted:
        paper = papers.get(arxiv_id)
        if paper is None or arxiv_id in blocked:
            continue
        prediction = predictions.get(arxiv_id)
        proposal = open_rows.get(arxiv_id)
        if proposal is not None:
            label = proposal.final_label or proposal.label
            additions.append(_addition(paper, label, prediction, doubt))
        elif prediction is not None and arxiv_id in verdicts:
            if verdicts[arxiv_id].label.is_section:
                additions.append(_judged(paper, verdicts[arxiv_id], prediction))
            elif (prediction.label.is_section or prediction.needs_review) and _recent(paper, now):
                turned_away.append(_turned_away(paper, verdicts[arxiv_id], prediction))  # not proposed
        elif prediction is not None and prediction.label.is_section and not prediction.needs_review:
            additions.append(_addition(paper, prediction.label, prediction, doubt))
        elif prediction is not None and prediction.needs_review:
            best = prediction.label if prediction.label.is_section else prediction.runner_up
            asked = replace(_addition(paper, best, prediction), probability=prediction.relevance)
            (review if _recent(paper, now) else older).append(asked)
    additions.sort(key=lambda a: (a.paper.published or now, a.paper.arxiv_id), reverse=True)
    return Candidates(additions[: settings.max_new_papers], review, older, turned_away)


def _recent(paper: Paper, now: datetime) -> bool:
    return paper.published is None or now - paper.published <= REVIEW_WINDOW


def _addition(paper: Paper, label: Label, prediction: Prediction | None, doubt: float = 0.0) -> Addition:
    """``doubt``: name the runner-up section when the label holds less than this share of P(relevant);
    never for a label the maintainers set by moving the line."""
    if prediction is None:
        return Addition(paper=paper, label=label, reason="proposed earlier", code_url=code_url_for(paper))
    other = prediction.other_section(doubt) if label is prediction.label else None
    return Addition(paper=paper, label=label, probability=prediction.probability, reason=prediction.reason,
                    code_url=code_url_for(paper), other_section=other)


def _judged(paper: Paper, verdict: JudgeVerdict, prediction: Prediction) -> Addition:
    """A paper filed under the LLM judge's label; where the local model would have filed it otherwise (or
    not at all), the pull request shows both, with the judge's reason."""
    differs = verdict.label is not prediction.label or prediction.needs_review
    return Addition(paper=paper, label=verdict.label, probability=prediction.probability,
                    reason=prediction.reason, code_url=code_url_for(paper),
                    local_label=prediction.label if differs else None,
                    judge_reason=verdict.reason if differs else None)


def _turned_away(paper: Paper, verdict: JudgeVerdict, prediction: Prediction) -> Addition:
    """A paper the LLM judge labelled irrelevant, with the local model's best section and P(relevant)."""
    local = prediction.label if prediction.label.is_section else prediction.runner_up
    return Addition(paper=paper, label=Label.IRRELEVANT, probability=prediction.relevance,
                    reason=prediction.reason, code_url=code_url_for(paper), local_label=local,
                    judge_reason=verdict.reason)


def _write_outputs(out_dir: Path, readme: str, body: str, diff: str) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "README.md").write_text(readme, encoding="utf-8")
    (out_dir / "pr-body.md").write_text(body, encoding="utf-8")
    (out_dir / "README.diff").write_text(diff, encoding="utf-8")


def _write_report(out_dir: Path, report: RunReport) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(asdict(report), indent=2, default=str) + "\n",
                                         encoding="utf-8")


def _write_step_summary(settings: Settings, report: RunReport) -> None:
    """Counts and the PR link for the Actions run page; no arXiv text ever goes there."""
    if not settings.step_summary:
        return
    lines = ["## paperbot", "", "| fetched | new | classified | proposed | needs review | skipped |",
             "| --- | --- | --- | --- | --- | --- |",
             f"| {report.fetched} | {report.new} | {report.classified} | {report.proposed} | "
             f"{report.needs_review} | {report.skipped} |", ""]
    if settings.judge.enabled:
        lines += [f"LLM judge: {report.judged} new verdicts; {report.turned_away} papers turned away "
                  "(listed in the pull request)", ""]
    lines.append(f"Pull request: {report.pr_url}" if report.pr_url else f"Result: {report.message}")
    try:
        with open(settings.step_summary, "a", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
    except OSError as exc:  # the run's own outcome stands; only the Actions page misses its summary
        log.warning("cannot write the step summary to %s: %s", settings.step_summary, exc.strerror or exc)
