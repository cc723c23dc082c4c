"""`ghbootstrap apply FILE` (and `apply --finish FILE`, `status --file`, `destroy --file`):
many repositories, each by its single-repository flow, in a bounded pool of workers.

Order: the file is validated whole (fleet.py) before this module runs; the account's OIDC
provider is settled once, by one call, before any role is planned; then each repository
runs its own flow (`oidc.run`, `keys.run`, `migrate.run`, `migrate.finish`, `status.run`,
`destroy.run`), which keeps that
command's order and guarantees. GitHub's rate limits are shared through one gate
(github/pacing.py). A failure stops its own repository only; every repository comes back
as one Outcome, with its one-line error and the command that repairs it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed

from ghbootstrap.aws.identity import whoami
from ghbootstrap.aws.session import Aws
from ghbootstrap.defaults import GITHUB_ISSUER
from ghbootstrap.errors import GhbError, TrustChangedByHand, UsageError, VariableTaken
from ghbootstrap.fleet import MIGRATE, OIDC, Entry
from ghbootstrap.flows import destroy, keys, migrate, oidc, status
from ghbootstrap.github.api import GitHub
from ghbootstrap.plan import Action, Change, Plan
from ghbootstrap.report import FleetReport, Outcome, Report

log = logging.getLogger("ghbootstrap.apply")

AccountKey = tuple[str | None, str | None]  # (profile, region)


class Clients:
    """Connections shared by the workers. AWS: one Aws per profile and region, whose
    clients are thread-safe once made (made under its lock). GitHub: one client per
    worker thread, as PyGithub's connection holds the request it is sending."""

    def __init__(self, aws: Mapping[AccountKey, Aws], github: Callable[[], GitHub]) -> None:
        self._aws = aws
        self._github = github
        self._local = threading.local()

    def aws(self, entry: Entry) -> Aws:
        return self._aws[(entry.profile, entry.region)]

    def github(self) -> GitHub:
        gh: GitHub | None = getattr(self._local, "github", None)
        if gh is None:
            gh = self._local.github = self._github()
        return gh


def request_for(
    entry: Entry, issuer: str, github_api_url: str | None = None
) -> oidc.OidcRequest | keys.KeysRequest | migrate.MigrateRequest:
    """The request the entry's single command would run: `apply` builds it once while
    checking the file (before any call), and again for each worker."""
    try:
        if entry.method == OIDC:
            return oidc.OidcRequest.from_entry(entry, issuer)
        if entry.method == MIGRATE:
            return migrate.MigrateRequest.from_entry(entry, issuer, github_api_url)
        return keys.KeysRequest.from_entry(entry)
    except UsageError as exc:
        raise UsageError(f"{entry.label}: {exc.what}", exc.fix) from None


Settled = tuple[str, bool] | GhbError


def settle_providers(
    entries: Sequence[Entry], clients: Clients, issuer: str, *, dry_run: bool
) -> tuple[list[Change], dict[str | None, Settled]]:
    """The account's OIDC provider, created or extended by one call per account (profile),
    here, before any worker starts: never by two workers at once."""
    changes: list[Change] = []
    settled: dict[str | None, Settled] = {}
    for entry in entries:
        if entry.method not in (OIDC, MIGRATE) or entry.profile in settled:
            continue
        aws = clients.aws(entry)
        plan = Plan()
        try:
            found = oidc.plan_account_provider(
                plan, aws.iam, whoami(aws.sts), issuer, entry.ref.tag_value
            )
            changes += plan.execute(dry_run=dry_run).changes
        except GhbError as exc:
            settled[entry.profile] = exc
        else:
            settled[entry.profile] = found
    return changes, settled


Work = Callable[[Entry], Report]
Repair = Callable[[Entry, bool], str]  # (entry, whether it needs --force)


def run_pool(
    entries: Sequence[Entry],
    work: Work,
    repair: Repair,
    *,
    jobs: int,
    on_done: Callable[[Outcome], None] = lambda _: None,
) -> list[Outcome]:
    """Each entry's work in a pool of `jobs` workers; one failing stops only itself."""

    def attempt(entry: Entry) -> Outcome:
        outcome = Outcome(entry.index, entry.ref.full_name)
        kept_by_hand = False  # the setup command would undo someone's change: none printed
        force = False  # a variable someone changed: its repair needs --force
        try:
            outcome.report = work(entry)
            kept_by_hand = not outcome.report.repairable
            force = outcome.report.force_needed
        except GhbError as exc:
            outcome.error = str(exc)
            kept_by_hand = isinstance(exc, TrustChangedByHand)
            force = isinstance(exc, VariableTaken)
        except Exception as exc:  # a bug: this repository fails, the others go on
            log.debug("%s failed", entry.label, exc_info=True)
            outcome.error = f"unexpected {type(exc).__name__}: run again with -v and report it"
        if outcome.error is not None or (outcome.report and outcome.report.problems):
            outcome.repair = None if kept_by_hand else repair(entry, force)
        return outcome

    outcomes: list[Outcome] = []
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="ghbootstrap") as pool:
        futures = [pool.submit(attempt, entry) for entry in entries]
        try:
            for future in as_completed(futures):
                outcome = future.result()
                outcomes.append(outcome)
                on_done(outcome)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return sorted(outcomes, key=lambda o: o.index)


def apply(
    entries: Sequence[Entry],
    clients: Clients,
    *,
    issuer: str,
    jobs: int,
    dry_run: bool,
    source: str,
    github_api_url: str | None = None,
    on_done: Callable[[Outcome], None] = lambda _: None,
) -> FleetReport:
    shared, providers = settle_providers(entries, clients, issuer, dry_run=dry_run)

    def work(entry: Entry) -> Report:
        aws, gh = clients.aws(entry), clients.github()
        request = request_for(entry, issuer, github_api_url)
        if isinstance(request, keys.KeysRequest):
            return keys.run(aws, gh, request, dry_run=dry_run)
        provider = providers.get(entry.profile)  # none: a migrate entry plans its own
        if isinstance(provider, GhbError):
            raise GhbError(f"the account's OIDC provider: {provider.what}", provider.fix)
        if isinstance(request, migrate.MigrateRequest):
            return migrate.run(aws, gh, request, dry_run=dry_run, provider=provider)
        return oidc.run(aws, gh, request, dry_run=dry_run, provider=provider)

    def repair(entry: Entry, force: bool) -> str:
        region = clients.aws(entry).region
        return entry.setup_command(
            region, issuer=issuer, github_api_url=github_api_url, force=force
        )

    outcomes = run_pool(entries, work, repair, jobs=jobs, on_done=on_done)
    return FleetReport("apply", source, dry_run, outcomes, shared)


def finish(
    entries: Sequence[Entry],
    clients: Clients,
    *,
    jobs: int,
    dry_run: bool,
    confirm: migrate.Confirm,
    source: str,
    issuer: str | None = None,
    github_api_url: str | None = None,
    on_done: Callable[[Outcome], None] = lambda _: None,
) -> FleetReport:
    """`apply --finish`: `migrate --finish` for each migrate entry, with all its checks.
    Every entry is planned first (reads only; an entry whose default branch does not use
    the role yet fails there), one question covers what the others would remove, then
    only those that planned cleanly are finished."""

    def run(entry: Entry, dry: bool) -> Report:
        request = migrate.FinishRequest(
            ref=entry.ref,
            names=entry.names,
            issuer=issuer,
            profile=entry.profile,
            github_api_url=github_api_url,
        )
        aws, gh = clients.aws(entry), clients.github()
        return migrate.finish(aws, gh, request, dry_run=dry, confirm=lambda _: True)

    def repair(entry: Entry, force: bool) -> str:  # noqa: ARG001 - --finish forces nothing
        region = clients.aws(entry).region
        return entry.finish_command(region, github_api_url=github_api_url, issuer=issuer)

    planned = run_pool(entries, lambda e: run(e, True), repair, jobs=jobs)
    stopped = [o for o in planned if o.error is not None]
    ready = [e for e, o in zip(entries, planned, strict=True) if o.error is None]
    if not dry_run:
        doomed = [c for o in planned if o.report for c in o.report.changes]
        if any(c.action is Action.DELETE for c in doomed) and not confirm(doomed):
            raise GhbError("nothing was removed", "run again and answer y, or pass --yes")
        planned = stopped + run_pool(
            ready, lambda e: run(e, False), repair, jobs=jobs, on_done=on_done
        )
    for outcome in stopped if not dry_run else planned:
        on_done(outcome)
    outcomes = sorted(planned, key=lambda o: o.index)
    return FleetReport("apply --finish", source, dry_run, outcomes)


def check(
    entries: Sequence[Entry],
    clients: Clients,
    *,
    jobs: int,
    source: str,
    github_api_url: str | None = None,
    on_done: Callable[[Outcome], None] = lambda _: None,
) -> FleetReport:
    """`status --file`: each repository checked as `status OWNER/REPO` would. The file
    does not name the issuer (`apply --issuer-url` does): a repair keeps the one the
    role records."""
    issuers: dict[int, str] = {}

    def work(entry: Entry) -> Report:
        aws = clients.aws(entry)
        request = status.StatusRequest(
            ref=entry.ref,
            names=entry.names,
            environments=entry.scopes.environments,
            profile=entry.profile,
            github_api_url=github_api_url,
        )
        if entry.method == OIDC:  # first: a repair is printed for a failed check too
            issuers[entry.index] = status.setup_issuer(aws, request)
        return status.run(aws, clients.github(), request)

    def repair(entry: Entry, force: bool) -> str:
        region = clients.aws(entry).region
        issuer = issuers.get(entry.index, GITHUB_ISSUER)
        return entry.setup_command(
            region, issuer=issuer, github_api_url=github_api_url, force=force
        )

    outcomes = run_pool(entries, work, repair, jobs=jobs, on_done=on_done)
    return FleetReport("status", source, False, outcomes)


def remove(
    entries: Sequence[Entry],
    clients: Clients,
    *,
    jobs: int,
    dry_run: bool,
    delete_images: bool,
    confirm: destroy.Confirm,
    source: str,
    github_api_url: str | None = None,
    on_done: Callable[[Outcome], None] = lambda _: None,
) -> FleetReport:
    """`destroy --file`: every repository planned first (reads only), one question for
    all of them, then each destroyed as `destroy OWNER/REPO --yes` would: only those
    that planned cleanly (the question covered nothing of the others)."""

    def run(entry: Entry, dry: bool) -> Report:
        request = destroy.DestroyRequest(
            ref=entry.ref, names=entry.names, delete_images=delete_images
        )
        aws, gh = clients.aws(entry), clients.github()
        return destroy.run(aws, gh, request, dry_run=dry, confirm=lambda _: True)

    def repair(entry: Entry, force: bool) -> str:  # noqa: ARG001 (destroy has no --force)
        region = clients.aws(entry).region
        return entry.destroy_command(region, github_api_url=github_api_url)

    planned = run_pool(entries, lambda e: run(e, True), repair, jobs=jobs)
    if dry_run:
        for outcome in planned:
            on_done(outcome)
        return FleetReport("destroy", source, True, planned)
    doomed = [c for o in planned if o.report for c in o.report.changes]
    if not confirm(doomed + _providers_at_the_end(planned)):
        raise GhbError("nothing was deleted", "run again and answer y, or pass --yes")
    stopped = [o for o in planned if o.error is not None]
    ready = [e for e, o in zip(entries, planned, strict=True) if o.error is None]
    for outcome in stopped:
        on_done(outcome)
    done = run_pool(ready, lambda e: run(e, False), repair, jobs=jobs, on_done=on_done)
    shared = _remove_providers(ready, done, clients)
    outcomes = sorted([*stopped, *done], key=lambda o: o.index)
    return FleetReport("destroy", source, False, outcomes, shared)


def _providers_at_the_end(planned: Sequence[Outcome]) -> list[Change]:
    """For the question: each entry's plan keeps a provider the file's other roles still
    trust, and `_remove_providers` deletes it once they are gone, if no role outside the
    file trusts it. Asked about, since it may go."""
    hosts = sorted(
        {
            change.name
            for outcome in planned
            for change in (outcome.report.changes if outcome.report else [])
            if change.resource == "OIDC provider" and "other role" in change.detail
        }
    )
    return [
        Change("OIDC provider", f"{host} (if no role outside this file trusts it)", Action.DELETE)
        for host in hosts
    ]


def _remove_providers(
    entries: Sequence[Entry], outcomes: Sequence[Outcome], clients: Clients
) -> list[Change]:
    """Workers destroying roles at once each see the others' roles still trusting the
    account's provider, and keep it. Once all are done, look again, once per account:
    a provider we made that no role trusts any more goes, as with a single destroy."""
    kept: dict[str | None, tuple[Entry, set[str]]] = {}
    for entry, outcome in zip(entries, outcomes, strict=True):
        for change in outcome.report.changes if outcome.report else []:
            if change.resource == "OIDC provider" and "other role" in change.detail:
                kept.setdefault(entry.profile, (entry, set()))[1].add(change.name)
    changes: list[Change] = []
    for entry, hosts in kept.values():
        aws = clients.aws(entry)
        caller = whoami(aws.sts)
        plan = Plan()
        arns = {caller.iam_arn("oidc-provider", host) for host in hosts}
        try:
            destroy.plan_provider_removal(plan, aws, arns, leaving=set())
            changes += plan.execute(dry_run=False).changes
        except GhbError as exc:
            for host in sorted(hosts):
                changes.append(Change("OIDC provider", host, Action.KEEP, f"not removed: {exc}"))
    return changes
