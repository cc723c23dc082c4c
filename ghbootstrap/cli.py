"""The command line. It parses and validates, calls one flow, and renders its report.

No SDK is imported at module level: `ghbootstrap --help` stays as fast as Typer itself.
Every error reaches the user as one line on stderr, with the exit code it calls for:
0 success, 1 failure, 2 bad input, 3 drift or findings, 130 interrupted (Ctrl-C).
Each command reads parse -> request -> run: `parse` checks every input and builds the
flow's request (no network), `run` connects and runs the flow, and `_run` renders the
report or the error.
"""

from __future__ import annotations

import copy
import inspect
import shlex
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional, TypeVar

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption
from typer.models import CommandInfo

from ghbootstrap import __version__
from ghbootstrap.defaults import GITHUB_ISSUER, WORKFLOW_PATH
from ghbootstrap.errors import (
    EXIT_DRIFT,
    EXIT_FAILURE,
    ON_ONE_LINE,
    GhbError,
    Interrupted,
    UsageError,
    holds_control,
    one_line,
    shown,
)

if TYPE_CHECKING:
    from ghbootstrap.aws.session import Aws
    from ghbootstrap.explain import Explanation, Token
    from ghbootstrap.fleet import Entry
    from ghbootstrap.flows.apply import Clients
    from ghbootstrap.flows.destroy import DestroyRequest
    from ghbootstrap.flows.explain import ExplainRequest
    from ghbootstrap.flows.keys import KeysRequest
    from ghbootstrap.flows.migrate import FinishRequest, MigrateRequest
    from ghbootstrap.flows.oidc import OidcRequest
    from ghbootstrap.flows.rotate import RotateRequest
    from ghbootstrap.flows.scan import ScanRequest
    from ghbootstrap.flows.status import StatusRequest
    from ghbootstrap.github.api import GitHub
    from ghbootstrap.plan import Change
    from ghbootstrap.render import Rendered
    from ghbootstrap.report import AuditReport, FleetReport, Outcome, Report, ScanReport

    # (entries, clients, jobs=, source=, github_api_url=, on_done=): a flows.apply function
    FleetWork = Callable[..., FleetReport]

Request = TypeVar("Request")


class _Listed(TyperCommand):
    """A command as the root's --help lists it: its name and help, its options not built."""

    def __init__(self, info: CommandInfo) -> None:
        assert info.callback is not None
        super().__init__(
            name=info.name or typer.main.get_command_name(info.callback.__name__),
            help=inspect.getdoc(info.callback)
            if info.help is None
            else inspect.cleandoc(info.help),
            short_help=info.short_help,
            hidden=info.hidden,
            deprecated=info.deprecated,
            rich_markup_mode=None,
        )
        self.info = info


class _Root(TyperGroup):
    """The root command. Building a command's options reads its whole signature: `main`
    builds only the command that runs (or shows its own help), so `ghbootstrap --help`
    costs little more than importing Typer."""

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name is not None and isinstance(command, _Listed):
            command = typer.main.get_command_from_info(
                command.info,
                pretty_exceptions_short=app.pretty_exceptions_short,
                rich_markup_mode=app.rich_markup_mode,
            )
            _check_typed_text(command)
            self.commands[name] = command
        return name, command, rest


app = typer.Typer(
    cls=_Root,
    name="ghbootstrap",
    help="Connect a GitHub repository's Actions to AWS ECR: least privilege, idempotent.",
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# -- options shared by commands -------------------------------------------------------------

Repository = Annotated[str, typer.Argument(metavar="OWNER/REPO", help="The GitHub repository.")]
OptionalRepository = Annotated[
    Optional[str],  # noqa: UP045
    typer.Argument(
        metavar="OWNER/REPO", help="The GitHub repository (or --file).", show_default=False
    ),
]
Region = Annotated[
    Optional[str],  # noqa: UP045 - Typer reads the annotation at runtime on 3.11
    typer.Option(metavar="REGION", help="AWS region [default: the profile's, or AWS_REGION]."),
]
Profile = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(metavar="PROFILE", help="AWS profile [default: the standard credential chain]."),
]
EcrRepo = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--ecr-repo", metavar="NAME", help="ECR repository name [default: owner/repo, lower case]."
    ),
]
PolicyName = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        metavar="NAME", help="IAM policy name [default: ghbootstrap-ecr-push-OWNER-REPO]."
    ),
]
RoleName = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(metavar="NAME", help="IAM role name [default: ghbootstrap-OWNER-REPO]."),
]
GitHubApiUrl = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--github-api-url",
        metavar="URL",
        envvar="GITHUB_API_URL",
        help="GitHub API URL; https://HOST/api/v3 for Enterprise Server.",
        show_default="https://api.github.com",
    ),
]
# --environment means one thing everywhere: a GitHub environment the setup serves, where
# its variables (and, on the keys path, its secrets) live. oidc also lets that
# environment's jobs assume the role. A setup can serve several environments with oidc
# (status checks several), but keeps one access key, so keys and rotate take one.
Environments = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--environment",
        metavar="NAME",
        help="GitHub environment the setup serves (repeatable): it gets the variables, "
        "and its jobs may assume the role. Created if missing.",
    ),
]
# The scopes a role admits: the same options for every command that sets them.
Branches = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(metavar="NAME", help="Branch whose workflows may assume the role (repeatable)."),
]
TagPatterns = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(metavar="PATTERN", help="Tag name or pattern, e.g. 'v*' (repeatable)."),
]
PullRequests = Annotated[
    bool, typer.Option("--pull-requests", help="Let pull request workflows assume the role.")
]
JobWorkflows = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--job-workflow",
        metavar="OWNER/REPO/.github/workflows/FILE.yml@refs/...",
        help="Admit only jobs running this workflow (their job_workflow_ref), e.g. a "
        "platform team's reusable build workflow (repeatable).",
    ),
]
UserName = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(metavar="NAME", help="IAM user name [default: ghbootstrap-OWNER-REPO]."),
]
KeyEnvironment = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--environment",
        metavar="NAME",
        help="GitHub environment the setup serves: it gets the key's secrets and the "
        "variables. Created if missing. One only: the setup keeps one key.",
    ),
]
RotateEnvironment = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--environment",
        metavar="NAME",
        help="GitHub environment the setup serves, as given to keys: it holds the secrets.",
    ),
]
StatusEnvironments = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--environment",
        metavar="NAME",
        help="GitHub environment the setup serves (repeatable): checked besides those "
        "the role records.",
    ),
]
PropagationTimeout = Annotated[
    float,
    typer.Option(metavar="SECONDS", min=1, help="How long to wait for a new key to start working."),
]
WorkflowPath = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        metavar="PATH",
        help="Where to write the build-and-push workflow [default: "
        f"{WORKFLOW_PATH} in this checkout of OWNER/REPO].",
        show_default=False,
    ),
]
OpenPr = Annotated[
    bool,
    typer.Option(
        "--open-pr",
        help="Deliver the workflow as a pull request (branch ghbootstrap/ecr-build-push), "
        "not a local file.",
    ),
]
MutableTags = Annotated[
    bool, typer.Option("--mutable-tags", help="Allow image tags to be overwritten.")
]
NoWorkflow = Annotated[bool, typer.Option("--no-workflow", help="Do not write a workflow.")]
Force = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Overwrite a workflow file, variable, secret or role trust ghbootstrap did not "
        "write (and with --open-pr, a branch someone committed to).",
    ),
]
DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Read only: print the plan and the documents.")
]
Json = Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")]
Verbose = Annotated[
    bool, typer.Option("-v", "--verbose", help="Log each call; show tracebacks on error.")
]


def _workflow_path(
    repository: str,
    workflow_path: Path | None,
    github_api_url: str | None,
    *,
    no_workflow: bool,
    open_pr: bool,
) -> Path | None:
    """Where the workflow goes: nowhere, a path in the repository (--open-pr), the given
    path, or the default path in the checkout of OWNER/REPO this command runs in."""
    from ghbootstrap.checkout import checkout_root, in_repository
    from ghbootstrap.github.connect import api_url
    from ghbootstrap.hosts import web_host
    from ghbootstrap.target import parse_repo

    if no_workflow:
        return None
    if open_pr:
        return in_repository(workflow_path or Path(WORKFLOW_PATH), "--workflow-path")
    if workflow_path is None:
        host = web_host(api_url(github_api_url))
        root = checkout_root(Path.cwd(), parse_repo(repository), host)
        return _workflow_file(root / WORKFLOW_PATH, "--workflow-path")
    return _workflow_file(workflow_path, "--workflow-path")


def _rotation_path(path: Path | None, *, open_pr: bool) -> Path | None:
    from ghbootstrap.checkout import in_repository

    if path is not None and open_pr:
        return in_repository(path, "--rotation-workflow-path")
    return _workflow_file(path, "--rotation-workflow-path")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ghbootstrap {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def _root(
    context: typer.Context,
    version: Annotated[  # noqa: ARG001 - handled eagerly by its callback
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Connect a GitHub repository's Actions to AWS ECR: least privilege, idempotent."""
    if context.invoked_subcommand is None:
        typer.echo(context.get_help())


# -- input rules shared by every command ----------------------------------------------------


# C0 and C1 controls (newline, tab, escape, DEL) and Unicode's line and paragraph separators.
class _BadText(typer.BadParameter):
    def format_message(self) -> str:
        return self.message


def _check_typed_text(command: Any) -> None:
    """An explicit empty value is bad input, never "use the default": `--region "$REGION"`
    with REGION unset must not fall back to the profile's region. Nor does any value hold
    a control character (a newline, a tab): none is part of a name, a path, a pattern or
    a schedule this tool takes. Installed on every parameter that takes a value, of every
    command (options added later included), it sees the text as typed, before any
    conversion: `--workflow-path ""` is not `.`."""
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            _check_typed_text(sub)
    for param in command.params:
        if isinstance(param, TyperOption) and (param.is_flag or param.count):
            continue
        # Wrapped on the parameter object itself: Typer offers no hook that sees the raw
        # text of every parameter, and these objects are built afresh by each main().
        param.process_value = _plain_text(param, param.process_value)


def _plain_text(param: Any, process: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def checked(ctx: typer.Context, value: Any) -> Any:
        values = value if isinstance(value, list | tuple) else [value]
        texts = [v for v in values if isinstance(v, str)] if _typed(ctx, param.name) else []
        if isinstance(param, TyperArgument):
            name, leave = param.metavar or param.name.upper(), ""
        else:
            name, leave = max(param.opts, key=len), ", or leave the option out"
        if any(not v.strip() for v in texts):
            raise _BadText(f"{name} is empty: give a value{leave}", ctx=ctx, param=param)
        bad = next((v for v in texts if holds_control(v)), None)
        if bad is not None:
            raise _BadText(
                f"{name} '{shown(bad)}' holds a line break or control character: {ON_ONE_LINE}",
                ctx=ctx,
                param=param,
            )
        return process(ctx, value)

    return checked


# Options that make no sense together, or one without the other, by parameter name: any
# command that has both is checked, before anything else.
_CONTRADICTIONS = (
    ("workflow_path", "no_workflow"),
    ("open_pr", "no_workflow"),
    ("rotation_workflow_path", "no_workflow"),
    *(("finish", name) for name in ("open_pr", "no_workflow", "force")),
    *(("finish", name) for name in ("branch", "tag", "environment", "pull_requests")),
)
_NEEDS = (("rotation_workflow_path", "rotation_schedule"),)


def _typed(context: typer.Context, name: str) -> bool:
    """Was this parameter given on the command line (not a default, not the environment)?"""
    source = context.get_parameter_source(name)  # Typer does not export ParameterSource
    return source is not None and source.name == "COMMANDLINE"


def _option(name: str) -> str:
    """The option a parameter is given with."""
    return "--" + name.replace("_", "-")


def _check_combinations(context: typer.Context) -> None:
    def given(name: str) -> bool:
        return _typed(context, name)

    for first, second in _CONTRADICTIONS:
        if given(first) and given(second):
            raise UsageError(
                f"{_option(first)} contradicts {_option(second)}", "give one or the other"
            )
    for first, needed in _NEEDS:
        if given(first) and not given(needed):
            raise UsageError(
                f"{_option(first)} needs {_option(needed)}",
                f"add {_option(needed)}, or leave {_option(first)} out",
            )


def _one_environment(values: Sequence[str] | None, command: str) -> str | None:
    """keys and rotate keep one access key, so one environment (see Environments)."""
    from ghbootstrap.subjects import check_environment

    if not values:
        return None
    if len(values) > 1:
        raise UsageError(
            f"{command} keeps one access key, in one place: give --environment once",
            "a setup that serves several environments is what `oidc` is for",
        )
    return check_environment(values[0])


# -- running a flow -------------------------------------------------------------------------


@contextmanager
def _call_log(enabled: bool) -> Iterator[None]:
    """-v: our own logger only. botocore's and urllib3's debug logs print response
    bodies, and a CreateAccessKey response holds a secret."""
    if not enabled:
        yield
        return
    import logging

    logger = logging.getLogger("ghbootstrap")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)


def _fail(message: str, code: int, *, traceback: bool) -> typer.Exit:
    """One line on stderr; -v puts the traceback above it. The exit code is the same."""
    if traceback:
        import traceback as tb

        tb.print_exc(file=sys.stderr)
    typer.echo(f"error: {one_line(message)}", err=True)
    return typer.Exit(code)


def _run(
    context: typer.Context,
    parse: Callable[[], Request],
    run: Callable[[Request], Rendered],
    *,
    json_out: bool,
    verbose: bool,
) -> None:
    """Check the input, run the flow, print its report; every error is one line and an
    exit code, whatever -v says."""
    try:
        _check_combinations(context)
        request = parse()
        with _call_log(verbose):
            report = run(request)
    except GhbError as exc:
        raise _fail(str(exc), exc.exit_code, traceback=verbose) from None
    except KeyboardInterrupt:
        stopped = Interrupted("interrupted", "run the command again to finish")
        raise _fail(str(stopped), stopped.exit_code, traceback=verbose) from None
    except Exception as exc:  # a bug: still one line and exit 1; -v adds the traceback
        advice = (
            "report it with the traceback above" if verbose else "run again with -v and report it"
        )
        raise _fail(
            f"unexpected {type(exc).__name__}: {advice}", EXIT_FAILURE, traceback=verbose
        ) from None
    from ghbootstrap.render import FORMATTERS, Format
    from ghbootstrap.report import FleetReport, ScanReport

    typer.echo(FORMATTERS[Format.JSON if json_out else Format.TEXT](report))
    if isinstance(report, FleetReport | ScanReport) and report.failed:
        raise typer.Exit(EXIT_FAILURE)
    if report.problems:
        raise typer.Exit(EXIT_DRIFT)


def _clients(
    profile: str | None, region: str | None, github_api_url: str | None
) -> tuple[Aws, GitHub]:
    """Validate the GitHub URL, then connect to both sides (still no network call)."""
    from ghbootstrap.github.connect import api_url

    url = api_url(github_api_url)
    return _aws(profile, region), _github(url)


def _aws(profile: str | None, region: str | None) -> Aws:
    from ghbootstrap.aws.session import connect, require_credentials

    aws = connect(profile, region)
    require_credentials(aws)
    return aws


def _github(url: str) -> GitHub:
    from ghbootstrap.github.connect import connect, find_token

    return connect(url, find_token(url))


# Workers of `apply`, `status --file` and `destroy --file`. Each worker has at most one
# GitHub request in flight, so 100 (GitHub's documented ceiling on concurrent requests)
# bounds --jobs. The default is far below it: GitHub also caps content-generating requests
# (80 a minute, 500 an hour), which no pool size avoids; a handful of workers already hide
# the seconds IAM takes to settle, and the shared gate waits out any limit answer.
DEFAULT_JOBS = 8
MAX_JOBS = 100

Jobs = Annotated[
    int,
    typer.Option(
        "--jobs",
        metavar="N",
        min=1,
        max=MAX_JOBS,
        help="Repositories worked on at once (GitHub allows at most 100 concurrent requests).",
    ),
]
FleetFile = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        "--file",
        metavar="FILE",
        help="Every repository of an apply file (TOML) instead of OWNER/REPO.",
        show_default=False,
    ),
]
IssuerUrl = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        metavar="URL",
        help="OIDC issuer [default: the GitHub host's; GHES: https://HOST/_services/token].",
        show_default=False,
    ),
]


def _fleet_clients(entries: list[Entry], url: str, jobs: int) -> Clients:
    """Connect once per profile and region (validating both, still no network call), and
    give each worker thread its own GitHub client with one token."""
    from ghbootstrap.aws.session import connect, require_credentials
    from ghbootstrap.fleet import check_resources
    from ghbootstrap.flows.apply import Clients
    from ghbootstrap.github.connect import connect as connect_github
    from ghbootstrap.github.connect import find_token

    sessions: dict[tuple[str | None, str | None], Aws] = {}
    for entry in entries:
        key = (entry.profile, entry.region)
        if key not in sessions:
            try:
                sessions[key] = connect(entry.profile, entry.region)
            except UsageError as exc:
                raise UsageError(f"{entry.label}: {exc.what}", exc.fix) from None
            sessions[key].pool = jobs
    # Regions resolve only now (an entry without one takes its profile's): entries on one
    # resource are refused here, still before any call, not raced by two workers.
    check_resources(entries, lambda entry: sessions[(entry.profile, entry.region)].region)
    for aws in sessions.values():
        require_credentials(aws)
    token = find_token(url)
    return Clients(sessions, lambda: connect_github(url, token))


def _progress(command: str, total: int, json_out: bool) -> tuple[Callable[[Outcome], None], Any]:
    """On a terminal (and not --json): a progress line on stderr. Else nothing."""
    if json_out or not sys.stderr.isatty():
        return (lambda _: None), None
    from ghbootstrap.github.pacing import GATE
    from ghbootstrap.render import Progress

    progress = Progress(command, total, sys.stderr, lambda: GATE.waiting)
    GATE.listeners.append(progress.draw)
    return progress.finished, progress


@contextmanager
def _showing(progress: Any) -> Iterator[None]:
    try:
        yield
    finally:
        if progress is not None:
            from ghbootstrap.github.pacing import GATE

            GATE.listeners.remove(progress.draw)
            progress.clear()


# Options naming one repository's setup: with --file, each entry names them itself.
_PER_REPOSITORY = (
    "region",
    "profile",
    "ecr_repo",
    "policy_name",
    "role_name",
    "user_name",
    "environment",
)


def _one_or_file(context: typer.Context, repository: str | None, file: Path | None) -> bool:
    """OWNER/REPO, or --file FILE whose entries name everything: True for the file."""
    if (repository is None) == (file is None):
        raise UsageError("give OWNER/REPO or --file FILE, not both or neither")
    clash = [name for name in _PER_REPOSITORY if file and context.params.get(name)]
    if clash:
        raise UsageError(
            f"{_option(clash[0])} does not go with --file", "the file names it for each repository"
        )
    return file is not None


def _run_fleet(
    context: typer.Context,
    command: str,
    file: Path | None,
    work: FleetWork,
    *,
    jobs: int,
    github_api_url: str | None,
    json_out: bool,
    verbose: bool,
    check: Callable[[Entry], object] = lambda _: None,
    then: Callable[[], None] = lambda: None,
    keep: Callable[[Entry], bool] = lambda _: True,
    repository: str | None = None,
    one: tuple[Callable[[], Any], Callable[[Any], Rendered]] | None = None,
) -> None:
    """`apply`, `status --file` and `destroy --file`: read and check the whole file before
    any call (`check` each entry, then `then`; work on those `keep` keeps), connect once
    per profile and region, and
    hand `work` the entries, the shared clients, --jobs, the file's name, the GitHub API
    URL given and the progress line's callback.

    With `one` (status, destroy): OWNER/REPO or --file, never both, and options naming
    one repository's setup do not go with --file; OWNER/REPO runs `one` (parse, run)."""
    if one is not None:
        try:
            from_file = _one_or_file(context, repository, file)
        except UsageError as exc:
            raise _fail(str(exc), exc.exit_code, traceback=False) from None
        if not from_file:
            _run(context, *one, json_out=json_out, verbose=verbose)
            return
    assert file is not None
    path = file

    def parse() -> list[Entry]:
        from ghbootstrap import fleet

        entries = fleet.load(path)
        for entry in entries:
            check(entry)
        then()
        return [entry for entry in entries if keep(entry)]

    def run(entries: list[Entry]) -> FleetReport:
        from ghbootstrap.github.connect import api_url

        clients = _fleet_clients(entries, api_url(github_api_url), jobs)
        on_done, progress = _progress(command, len(entries), json_out)
        with _showing(progress):
            return work(
                entries,
                clients,
                jobs=jobs,
                source=str(path),
                github_api_url=github_api_url,
                on_done=on_done,
            )

    _run(context, parse, run, json_out=json_out, verbose=verbose)


def _issuer(url: str | None, github_api_url: str | None) -> str:
    """The issuer given, else the one the GitHub host (--github-api-url, GITHUB_API_URL,
    else github.com) issues its Actions tokens from."""
    from urllib.parse import urlparse

    if url is None:
        from ghbootstrap.github.connect import api_url
        from ghbootstrap.hosts import issuer_for

        return issuer_for(api_url(github_api_url))

    parsed = urlparse(url)
    if parsed.scheme != "https" or not parsed.netloc:
        raise UsageError(
            f"'{shown(url)}' is not an OIDC issuer URL",
            f"use {GITHUB_ISSUER}, or your GHES/GHE.com issuer",
        )
    return url.rstrip("/")


def _workflow_file(path: Path | None, option: str) -> Path | None:
    from ghbootstrap.workflow import check_file_path

    return None if path is None else check_file_path(path, option)


# -- commands -------------------------------------------------------------------------------


@app.command()
def oidc(
    context: typer.Context,
    repository: Repository,
    region: Region = None,
    profile: Profile = None,
    ecr_repo: EcrRepo = None,
    policy_name: PolicyName = None,
    role_name: RoleName = None,
    branch: Branches = None,
    tag: TagPatterns = None,
    environment: Environments = None,
    pull_requests: PullRequests = False,
    job_workflow: JobWorkflows = None,
    mutable_tags: MutableTags = False,
    issuer_url: IssuerUrl = None,
    github_api_url: GitHubApiUrl = None,
    workflow_path: WorkflowPath = None,
    no_workflow: NoWorkflow = False,
    open_pr: OpenPr = False,
    force: Force = False,
    dry_run: DryRun = False,
    json_out: Json = False,
    verbose: Verbose = False,
) -> None:
    """Recommended: an IAM role GitHub's OIDC tokens assume. No long-lived key at all.

    With no --branch, --tag, --environment or --pull-requests, only workflows on the
    repository's default branch may assume the role.
    """

    def parse() -> OidcRequest:
        from ghbootstrap.flows.oidc import OidcRequest
        from ghbootstrap.identity import check_job_workflows
        from ghbootstrap.subjects import Scopes
        from ghbootstrap.target import Names, parse_repo
        from ghbootstrap.workflow import check_triggers

        ref = parse_repo(repository)
        scopes = Scopes.parse(branch or (), tag or (), environment or (), pull_requests)
        job_workflows = check_job_workflows(job_workflow or ())
        names = Names.resolve(ref, ecr_repository=ecr_repo, policy=policy_name, role=role_name)
        issuer = _issuer(issuer_url, github_api_url)
        path = _workflow_path(
            repository, workflow_path, github_api_url, no_workflow=no_workflow, open_pr=open_pr
        )
        if path is not None:
            check_triggers(scopes)
        return OidcRequest(
            ref=ref,
            names=names,
            scopes=scopes,
            immutable_tags=not mutable_tags,
            issuer=issuer,
            workflow_path=path,
            force=force,
            open_pr=open_pr,
            job_workflows=job_workflows,
        )

    def run(request: OidcRequest) -> Report:
        from ghbootstrap.flows import oidc as flow

        return flow.run(*_clients(profile, region, github_api_url), request, dry_run=dry_run)

    _run(context, parse, run, json_out=json_out, verbose=verbose)


@app.command()
def keys(
    context: typer.Context,
    repository: Repository,
    region: Region = None,
    profile: Profile = None,
    ecr_repo: EcrRepo = None,
    policy_name: PolicyName = None,
    user_name: UserName = None,
    environment: KeyEnvironment = None,
    mutable_tags: MutableTags = False,
    rotation_schedule: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            metavar="CRON",
            help="Also let the user rotate its own key, and write a workflow that runs "
            "`ghbootstrap rotate` on this five-field cron schedule (UTC).",
        ),
    ] = None,
    rotation_workflow_path: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            metavar="PATH", help="Where to write the rotation workflow.", show_default=False
        ),
    ] = None,
    propagation_timeout: PropagationTimeout = 120.0,
    github_api_url: GitHubApiUrl = None,
    workflow_path: WorkflowPath = None,
    no_workflow: NoWorkflow = False,
    open_pr: OpenPr = False,
    force: Force = False,
    dry_run: DryRun = False,
    json_out: Json = False,
    verbose: Verbose = False,
) -> None:
    """The workshop's path: an IAM user whose access key is sealed into Actions secrets.

    Prefer `oidc` where you can: it leaves no long-lived key to leak or rotate.
    The rotation workflow sits beside the build workflow unless --rotation-workflow-path.
    """

    def parse() -> KeysRequest:
        from ghbootstrap.flows.keys import KeysRequest
        from ghbootstrap.target import Names, parse_repo
        from ghbootstrap.workflow import check_cron

        ref = parse_repo(repository)
        names = Names.resolve(ref, ecr_repository=ecr_repo, policy=policy_name, user=user_name)
        keys_environment = _one_environment(environment, "keys")
        schedule = check_cron(rotation_schedule) if rotation_schedule else None
        return KeysRequest(
            ref=ref,
            names=names,
            environment=keys_environment,
            immutable_tags=not mutable_tags,
            workflow_path=_workflow_path(
                repository, workflow_path, github_api_url, no_workflow=no_workflow, open_pr=open_pr
            ),
            rotation_schedule=schedule,
            rotation_workflow_path=_rotation_path(rotation_workflow_path, open_pr=open_pr),
            force=force,
            open_pr=open_pr,
            propagation_timeout=propagation_timeout,
        )

    def run(request: KeysRequest) -> Report:
        from ghbootstrap.flows import keys as flow

        return flow.run(*_clients(profile, region, github_api_url), request, dry_run=dry_run)

    _run(context, parse, run, json_out=json_out, verbose=verbose)


@app.command()
def rotate(
    context: typer.Context,
    repository: Repository,
    region: Region = None,
    profile: Profile = None,
    user_name: UserName = None,
    environment: RotateEnvironment = None,
    keep_old_active: Annotated[
        bool,
        typer.Option(
            "--keep-old-active",
            help="Leave the old key active until the next rotation (for queued jobs).",
        ),
    ] = False,
    propagation_timeout: PropagationTimeout = 120.0,
    github_api_url: GitHubApiUrl = None,
    dry_run: DryRun = False,
    json_out: Json = False,
    verbose: Verbose = False,
) -> None:
    """Replace the access key GitHub holds, never leaving CI without a working one.

    New key, wait until it works, store it, then deactivate the old key (the next
    rotation deletes it). A run that stopped half-way is finished or undone by the next.
    """

    def parse() -> RotateRequest:
        from ghbootstrap.flows.rotate import RotateRequest
        from ghbootstrap.target import Names, parse_repo

        ref = parse_repo(repository)
        return RotateRequest(
            ref=ref,
            user=Names.resolve(ref, user=user_name).user,
            environment=_one_environment(environment, "rotate"),
            keep_old_active=keep_old_active,
            propagation_timeout=propagation_timeout,
            profile=profile,
            github_api_url=github_api_url,
        )

    def run(request: RotateRequest) -> Report:
        from ghbootstrap.flows import rotate as flow

        return flow.run(*_clients(profile, region, github_api_url), request, dry_run=dry_run)

    _run(context, parse, run, json_out=json_out, verbose=verbose)


@app.command()
def status(
    context: typer.Context,
    repository: OptionalRepository = None,
    file: FleetFile = None,
    jobs: Jobs = DEFAULT_JOBS,
    region: Region = None,
    profile: Profile = None,
    ecr_repo: EcrRepo = None,
    policy_name: PolicyName = None,
    role_name: RoleName = None,
    user_name: UserName = None,
    environment: StatusEnvironments = None,
    github_api_url: GitHubApiUrl = None,
    json_out: Json = False,
    verbose: Verbose = False,
) -> None:
    """Read-only: is everything there and as it was set up? Exit 3 if anything drifted.

    Give the same naming options the setup used; the rest is found by the tool's tags.
    With --file, every repository of an apply file, --jobs at a time.
    """

    def check_file(entries: list[Entry], clients: Clients, **fleet: Any) -> FleetReport:
        from ghbootstrap.flows import apply as flow

        return flow.check(entries, clients, **fleet)

    def parse() -> StatusRequest:
        from ghbootstrap.flows.status import StatusRequest
        from ghbootstrap.subjects import check_environment
        from ghbootstrap.target import Names, parse_repo

        assert repository is not None
        ref = parse_repo(repository)
        return StatusRequest(
            ref=ref,
            names=Names.resolve(
                ref, ecr_repository=ecr_repo, policy=policy_name, role=role_name, user=user_name
            ),
            environments=tuple(sorted({check_environment(e) for e in environment or ()})),
            profile=profile,
            github_api_url=github_api_url,
        )

    def run(request: StatusRequest) -> Report:
        from ghbootstrap.flows import status as flow

        return flow.run(*_clients(profile, region, github_api_url), request)

    _run_fleet(
        context,
        "status",
        file,
        check_file,
        jobs=jobs,
        github_api_url=github_api_url,
        json_out=json_out,
        verbose=verbose,
        repository=repository,
        one=(parse, run),
    )


def _yes(changes: list[Change]) -> bool:  # noqa: ARG001
    return True


def _confirm(changes: list[Change], command: str = "ghbootstrap destroy") -> bool:
    """Ask on the terminal. No answer (Ctrl-D) is no; Ctrl-C stops with exit 130. Either
    way nothing has been deleted yet, and the one line says so."""
    from ghbootstrap.plan import Action

    doomed = [c for c in changes if c.action is Action.DELETE]
    try:  # from the first line shown: a Ctrl-C typed as the question appears is an answer
        typer.echo(f"{command} will delete:", err=True)
        for change in doomed:
            typer.echo(f"  {change.resource}  {change.name}", err=True)
        typer.echo(f"Delete these {len(doomed)}? [y/N]: ", nl=False, err=True)
        answer = input()
    except EOFError:
        typer.echo(err=True)
        return False
    except KeyboardInterrupt:
        typer.echo(err=True)
        raise Interrupted("interrupted at the question", "nothing was deleted") from None
    return answer.strip().lower() in ("y", "yes")


def _require_answer(*, yes: bool, dry_run: bool, command: str) -> None:
    if not (yes or dry_run or sys.stdin.isatty()):
        raise UsageError(
            f"{command} asks for confirmation, and no terminal is attached",
            "pass --yes to delete without asking, or --dry-run to see what would go",
        )


@app.command()
def destroy(
    context: typer.Context,
    repository: OptionalRepository = None,
    file: FleetFile = None,
    jobs: Jobs = DEFAULT_JOBS,
    region: Region = None,
    profile: Profile = None,
    ecr_repo: EcrRepo = None,
    policy_name: PolicyName = None,
    role_name: RoleName = None,
    user_name: UserName = None,
    delete_images: Annotated[
        bool,
        typer.Option("--delete-images", help="Delete the ECR repository even if it holds images."),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    github_api_url: GitHubApiUrl = None,
    dry_run: DryRun = False,
    json_out: Json = False,
    verbose: Verbose = False,
) -> None:
    """Remove what ghbootstrap made for a repository (found by its tags), nothing else.

    The OIDC provider stays while other roles trust it; an ECR repository holding images
    stays unless --delete-images. Asks first, unless --yes. With --file, every repository
    of an apply file, --jobs at a time, after one question for all of them.
    """

    def confirmable() -> None:
        _require_answer(yes=yes, dry_run=dry_run, command="destroy")

    def destroy_file(entries: list[Entry], clients: Clients, **fleet: Any) -> FleetReport:
        from ghbootstrap.flows import apply as flow

        confirm = _yes if yes else _confirm
        return flow.remove(
            entries, clients, dry_run=dry_run, delete_images=delete_images, confirm=confirm, **fleet
        )

    def parse() -> DestroyRequest:
        from ghbootstrap.flows.destroy import DestroyRequest
        from ghbootstrap.target import Names, parse_repo

        assert repository is not None
        ref = parse_repo(repository)
        confirmable()
        return DestroyRequest(
            ref=ref,
            names=Names.resolve(
                ref, ecr_repository=ecr_repo, policy=policy_name, role=role_name, user=user_name
            ),
            delete_images=delete_images,
        )

    def run(request: DestroyRequest) -> Report:
        from ghbootstrap.flows import destroy as flow

        aws, gh = _clients(profile, region, github_api_url)
        return flow.run(aws, gh, request, dry_run=dry_run, confirm=_yes if yes else _confirm)

    _run_fleet(
        context,
        "destroy",
        file,
        destroy_file,
        jobs=jobs,
        github_api_url=github_api_url,
        json_out=json_out,
        verbose=verbose,
        then=confirmable,
        repository=repository,
        one=(parse, run),
    )


@app.command()
def migrate(
    context: typer.Context,
    repository: Repository,
    region: Region = None,
    profile: Profile = None,
    ecr_repo: EcrRepo = None,
    policy_name: PolicyName = None,
    user_name: UserName = None,
    role_name: RoleName = None,
    branch: Branches = None,
    tag: TagPatterns = None,
    environment: Environments = None,
    pull_requests: PullRequests = False,
    finish: Annotated[
        bool,
        typer.Option(
            "--finish",
            help="Phase two: once the default branch builds with the role, remove the key, "
            "its secrets and the IAM user.",
        ),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="With --finish: do not ask for confirmation.")
    ] = False,
    issuer_url: IssuerUrl = None,
    github_api_url: GitHubApiUrl = None,
    workflow_path: WorkflowPath = None,
    no_workflow: NoWorkflow = False,
    open_pr: OpenPr = False,
    force: Force = False,
    dry_run: DryRun = False,
    json_out: Json = False,
    verbose: Verbose = False,
) -> None:
    """Move an access-key setup to OIDC, in two phases, CI never without a credential.

    Phase one adds the role, AWS_ROLE_ARN and the OIDC workflow (replacing ghbootstrap's
    own build and rotation workflows) and removes nothing. Once that workflow runs on the
    default branch, `migrate --finish` removes the key, its secrets and the user.
    """

    def parse() -> MigrateRequest | FinishRequest:
        from ghbootstrap.checkout import in_repository
        from ghbootstrap.flows.migrate import FinishRequest, MigrateRequest
        from ghbootstrap.subjects import Scopes
        from ghbootstrap.target import Names, parse_repo
        from ghbootstrap.workflow import check_triggers

        ref = parse_repo(repository)
        names = Names.resolve(
            ref, ecr_repository=ecr_repo, policy=policy_name, role=role_name, user=user_name
        )
        if finish:
            _require_answer(yes=yes, dry_run=dry_run, command="migrate --finish")
            where = in_repository(workflow_path, "--workflow-path") if workflow_path else None
            return FinishRequest(
                ref=ref,
                names=names,
                workflow_path=where.as_posix() if where else None,
                issuer=_issuer(issuer_url, None) if issuer_url is not None else None,
                profile=profile,
                github_api_url=github_api_url,
            )
        if yes:
            raise UsageError("--yes needs --finish", "add --finish, or leave --yes out")
        scopes = Scopes.parse(branch or (), tag or (), environment or (), pull_requests)
        path = _workflow_path(
            repository, workflow_path, github_api_url, no_workflow=no_workflow, open_pr=open_pr
        )
        if path is not None:
            check_triggers(scopes)
        checkout = None  # locally by default: the recorded workflow's path is relative to it
        if path is not None and workflow_path is None and not open_pr:
            checkout = path.parents[len(Path(WORKFLOW_PATH).parts) - 1]  # root/WORKFLOW_PATH
        return MigrateRequest(
            ref=ref,
            names=names,
            scopes=scopes,
            workflow_path=path,
            open_pr=open_pr,
            workflow_given=workflow_path is not None,
            checkout=checkout,
            force=force,
            profile=profile,
            github_api_url=github_api_url,
            issuer=_issuer(issuer_url, github_api_url),
            given=frozenset(
                flag
                for flag, value in (("--ecr-repo", ecr_repo), ("--policy-name", policy_name))
                if value is not None
            ),
        )

    def run(request: MigrateRequest | FinishRequest) -> Report:
        from functools import partial

        from ghbootstrap.flows import migrate as flow

        aws, gh = _clients(profile, region, github_api_url)
        if isinstance(request, flow.MigrateRequest):
            return flow.run(aws, gh, request, dry_run=dry_run)
        ask = partial(_confirm, command="ghbootstrap migrate --finish")
        return flow.finish(aws, gh, request, dry_run=dry_run, confirm=_yes if yes else ask)

    _run(context, parse, run, json_out=json_out, verbose=verbose)


@app.command()
def audit(
    context: typer.Context,
    region: Region = None,
    profile: Profile = None,
    max_key_age: Annotated[
        int,
        typer.Option(metavar="DAYS", min=1, help="Report active access keys older than this."),
    ] = 90,
    json_out: Json = False,
    verbose: Verbose = False,
) -> None:
    """Find IAM roles whose trust lets the wrong GitHub repositories in, and old keys.

    Flags trusts of GitHub's OIDC providers (github.com, GHE.com, GHES) with no sub
    condition, a sub any repository matches, a wildcard owner, organisation-wide
    subjects, ForAllValues/ForAnyValue, no aud, or no conditions at all. Exit 3 on findings.
    """

    def run(max_age_days: int) -> AuditReport:
        from ghbootstrap.flows import audit as flow

        return flow.run(_aws(profile, region), max_key_age_days=max_age_days)

    _run(context, lambda: max_key_age, run, json_out=json_out, verbose=verbose)


def _read_claims(source: str) -> Token:
    """--claims FILE or - (stdin): read, then decode (see explain.read_claims)."""
    from ghbootstrap.explain import read_claims

    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise UsageError(f"--claims: cannot read {shown(source)}: {reason}") from None
    return read_claims(text)


@app.command()
def explain(
    context: typer.Context,
    repository: Repository,
    branch: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(metavar="NAME", help="The job runs on a push to this branch."),
    ] = None,
    tag: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(metavar="NAME", help="The job runs on a push of this tag."),
    ] = None,
    pull_request: Annotated[
        bool, typer.Option("--pull-request", help="The job runs for a pull request.")
    ] = False,
    environment: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(metavar="NAME", help="The job runs in this environment (on its ref)."),
    ] = None,
    job_workflow: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--job-workflow",
            metavar="OWNER/REPO/.github/workflows/FILE.yml@refs/...",
            help="The workflow the job runs (its job_workflow_ref) [default: the "
            "repository's build workflow at the job's ref].",
        ),
    ] = None,
    claims: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            metavar="FILE",
            help="The job's token claims (JSON) or the token itself, '-' for stdin. "
            "Only the payload is decoded; the token is never verified, kept or shown.",
        ),
    ] = None,
    role_name: RoleName = None,
    region: Region = None,
    profile: Profile = None,
    issuer_url: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            metavar="URL", help="OIDC issuer [default: the token's, else the one the role trusts]."
        ),
    ] = None,
    github_api_url: GitHubApiUrl = None,
    json_out: Json = False,
    verbose: Verbose = False,
) -> None:
    """Would a job get the role? If not, why, and the one command that admits it.

    Describe the job with --branch, --tag, --pull-request and --environment (none: a
    push to the default branch), or paste its claims with --claims. Read-only. Exit 0
    admitted, 3 denied.
    """

    def parse() -> ExplainRequest:
        from ghbootstrap.explain import JobContext
        from ghbootstrap.flows.explain import ExplainRequest
        from ghbootstrap.target import Names, parse_repo

        ref = parse_repo(repository)
        job = JobContext(branch, tag, pull_request, environment, job_workflow)
        if claims is not None and job != JobContext():
            raise UsageError(
                "--claims describes the job itself",
                "drop --branch, --tag, --pull-request, --environment and --job-workflow, "
                "or drop --claims",
            )
        return ExplainRequest(
            ref=ref,
            names=Names.resolve(ref, role=role_name),
            job=job,
            claims=_read_claims(claims) if claims is not None else None,
            issuer=_issuer(issuer_url, None) if issuer_url is not None else None,
            host_issuer=_issuer(None, github_api_url),
            profile=profile,
            github_api_url=github_api_url,
        )

    def run(request: ExplainRequest) -> Explanation:
        from ghbootstrap.flows import explain as flow
        from ghbootstrap.github.connect import api_url

        url = api_url(github_api_url)
        return flow.run(_aws(profile, region), lambda: _github(url), request)

    _run(context, parse, run, json_out=json_out, verbose=verbose)


@app.command()
def apply(
    context: typer.Context,
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="The apply file (TOML): see README.")
    ],
    jobs: Jobs = DEFAULT_JOBS,
    issuer_url: IssuerUrl = None,
    finish: Annotated[
        bool,
        typer.Option(
            "--finish",
            help='migrate --finish for each method = "migrate" entry: once the default '
            "branch builds with the role, remove the key, its secrets and the IAM user. "
            "Asks once.",
        ),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="With --finish: do not ask for confirmation.")
    ] = False,
    github_api_url: GitHubApiUrl = None,
    dry_run: DryRun = False,
    json_out: Json = False,
    verbose: Verbose = False,
) -> None:
    """Set up every repository an apply file lists, each as `oidc`, `keys` or `migrate` would.

    The whole file is checked before any call. The account's OIDC provider is settled
    once; then repositories run --jobs at a time, sharing GitHub's rate limits. One
    repository failing does not stop the others: exit 1 if any failed.
    """

    migrating: list[Entry] = []

    def check(entry: Entry) -> None:
        from ghbootstrap.fleet import MIGRATE
        from ghbootstrap.flows.apply import request_for

        request_for(entry, _issuer(issuer_url, github_api_url))  # as its command checks it
        if entry.method == MIGRATE:
            migrating.append(entry)

    def then() -> None:
        if not finish:
            if yes:
                raise UsageError("--yes needs --finish", "add --finish, or leave --yes out")
            return
        if not migrating:
            raise UsageError(
                f'{file} has no method = "migrate" entry: nothing to finish',
                "`ghbootstrap scan OWNER --write FILE` writes one per key setup ghbootstrap made",
            )
        _require_answer(yes=yes, dry_run=dry_run, command="apply --finish")

    def run(entries: list[Entry], clients: Clients, **fleet: Any) -> FleetReport:
        from functools import partial

        from ghbootstrap.flows import apply as flow

        if finish:
            ask = partial(_confirm, command="ghbootstrap apply --finish")
            confirm = _yes if yes else ask
            given = _issuer(issuer_url, None) if issuer_url is not None else None
            return flow.finish(
                entries, clients, dry_run=dry_run, confirm=confirm, issuer=given, **fleet
            )
        issuer = _issuer(issuer_url, github_api_url)
        return flow.apply(entries, clients, issuer=issuer, dry_run=dry_run, **fleet)

    _run_fleet(
        context,
        "apply --finish" if finish else "apply",
        file,
        run,
        jobs=jobs,
        github_api_url=github_api_url,
        json_out=json_out,
        verbose=verbose,
        check=check,
        then=then,
        keep=lambda entry: not finish or entry in migrating,
    )


@app.command()
def scan(
    context: typer.Context,
    owner: Annotated[str, typer.Argument(metavar="OWNER", help="The GitHub organization or user.")],
    repository: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "--repository",
            metavar="OWNER/REPO",
            help="Scan this repository of OWNER only (repeatable) [default: all of them].",
            show_default=False,
        ),
    ] = None,
    region: Region = None,
    profile: Profile = None,
    include_archived: Annotated[
        bool, typer.Option("--include-archived", help="Scan archived repositories too.")
    ] = False,
    jobs: Jobs = DEFAULT_JOBS,
    write: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            "--write",
            metavar="FILE",
            help="Write an apply file retiring the keys ghbootstrap made (a migrate entry "
            "each; other tools' keys as comments). Never replaces a file.",
            show_default=False,
        ),
    ] = None,
    github_api_url: GitHubApiUrl = None,
    json_out: Json = False,
    verbose: Verbose = False,
) -> None:
    """Find the long-lived AWS keys an owner's repositories hold. Reads only.

    GitHub: the AWS key secrets of each repository, its environments and the
    organization, and the workflow files on its default branch that read them or assume
    a role. AWS: every IAM user's access keys, their age and last use, and the key setups
    ghbootstrap recorded. Exit 3 when a repository holds a long-lived key.
    """

    def parse() -> ScanRequest:
        from ghbootstrap.flows.scan import ScanRequest
        from ghbootstrap.target import parse_owner, parse_repo

        name = parse_owner(owner)
        named = [parse_repo(r) for r in repository or ()]
        keys = [ref.tag_value for ref in named]
        refs = tuple(ref for i, ref in enumerate(named) if ref.tag_value not in keys[:i])
        for ref in refs:
            if ref.owner.lower() != name.lower():
                raise UsageError(
                    f"--repository {ref.full_name} is not a repository of {name}",
                    f"give repositories of {name}, or scan {ref.owner}",
                )
        if write is not None:
            _new_file(write)
        return ScanRequest(
            owner=name,
            repositories=refs,
            include_archived=include_archived,
            jobs=jobs,
            profile=profile,
            github_api_url=github_api_url,
        )

    def run(request: ScanRequest) -> ScanReport:
        from ghbootstrap.flows import scan as flow
        from ghbootstrap.github.connect import api_url, connect, find_token
        from ghbootstrap.github.etags import ETags, cache_file

        aws = _aws(profile, region)
        url = api_url(github_api_url)
        token = find_token(url)
        etags = ETags.load(cache_file(url, request.owner))

        def github() -> GitHub:
            gh = connect(url, token)
            gh.etags = etags
            return gh

        with ExitStack() as shown:

            def started(total: int) -> Callable[[Outcome], None]:
                on_done, progress = _progress("scan", total, json_out)
                shown.enter_context(_showing(progress))
                return on_done

            try:
                report = flow.run(aws, github, request, started=started)
            finally:
                etags.save()
        if write is not None:
            _write_scan_file(report, write, profile, github_api_url)
        return report

    _run(context, parse, run, json_out=json_out, verbose=verbose)


def _new_file(path: Path) -> None:
    """`--write FILE` never replaces anything: checked before any call, and again when
    writing (the file is created exclusively)."""
    if path.exists() or path.is_symlink():
        raise UsageError(
            f"{path} exists: scan --write never replaces a file",
            "give the path of a new file, or move that one away",
        )
    if not path.parent.is_dir():
        raise UsageError(f"{path.parent} is not a folder", "give a path in an existing folder")


def _write_scan_file(
    report: ScanReport, path: Path, profile: str | None, github_api_url: str | None
) -> None:
    from ghbootstrap.inventory import KEYS
    from ghbootstrap.scan_file import entries, render

    apply_args = ["--github-api-url", github_api_url] if github_api_url else []
    scanned = shlex.join(["ghbootstrap", "scan", report.owner, "--write", str(path)])
    text = render(report, str(path), scanned=scanned, profile=profile, apply_args=apply_args)
    try:
        with path.open("x", encoding="utf-8") as out:
            out.write(text)
    except FileExistsError:
        _new_file(path)  # raises: the file appeared while the scan ran
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    report.written = str(path)
    written = len(entries(report))
    if written:
        apply = shlex.join(["ghbootstrap", "apply", str(path), *apply_args])
        report.notes.append(f'wrote {path}: {written} method = "migrate" entries; next: {apply}')
    elif report.count(KEYS):
        report.notes.append(
            f"wrote {path}: no entry for apply (the access-key setups ghbootstrap made are "
            "listed in it as comments, with what the scan could not read)"
        )
    else:
        report.notes.append(
            f"wrote {path}: no access-key setup ghbootstrap made, so no entry for apply "
            "(other tools' keys are listed in it as comments)"
        )


def _root_command() -> TyperGroup:
    """The root with its own options built, and every command listed, built as it runs."""
    bare = copy.copy(app)
    bare.registered_commands = []
    root = typer.main.get_command(bare)
    assert isinstance(root, _Root)
    _check_typed_text(root)
    for info in app.registered_commands:
        listed = _Listed(info)
        root.commands[str(listed.name)] = listed
    return root


def main(argv: list[str] | None = None) -> None:
    """The console script. Usage errors, too, are one line on stderr and exit code 2."""
    from typer.exceptions import Abort, TyperException

    command = _root_command()
    try:
        code = command.main(args=argv, prog_name="ghbootstrap", standalone_mode=False)
    except TyperException as exc:
        context = getattr(exc, "ctx", None)
        where = context.command_path if context is not None else "ghbootstrap"
        message = one_line(exc.format_message().rstrip("."))
        typer.echo(f"error: {message}: see '{where} --help'", err=True)
        sys.exit(exc.exit_code)
    except Abort:
        typer.echo("error: aborted", err=True)
        sys.exit(EXIT_FAILURE)
    sys.exit(code if isinstance(code, int) else 0)
