"""Put a new access key into GitHub without ever leaving CI without a working key.

The order (shared by `keys` and `rotate`):

1. delete the key the previous rotation retired; any other unrecorded key stops the run;
2. create the new key, record it as pending (stage `created`), wait until it authenticates;
3. write AWS_ACCESS_KEY_ID, record stage `id-stored`, write AWS_SECRET_ACCESS_KEY;
4. record the new key as held, with the `updated_at` GitHub reports for both secrets
   (proof that ghbootstrap wrote them), and only then deactivate the old key (the next
   rotation deletes it; --keep-old-active leaves it active for queued jobs).

When GitHub refuses a write (a 4xx that is not a rate limit), the write did not happen:
the run undoes everything at once (the old id is written back if the new one was stored,
the new key is deleted, nothing stays pending). When the outcome is unknown (a timeout, a
dropped connection, a 5xx), GitHub is read back. A run that stopped half-way is finished or
undone by the next (`repair`), which decides from the recorded stage, never from
`updated_at` moving alone: GitHub's timestamps have one-second resolution.

A record 0.1.0 made holds no `updated_at`: `adopt_v0_1_0` takes its secrets as ghbootstrap's
on the evidence of their timestamps, for every command that reads the key state.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial

from ghbootstrap import frozen_v0_1_0
from ghbootstrap.aws import access_keys, user
from ghbootstrap.aws.access_keys import AccessKey
from ghbootstrap.aws.eventual_consistency import settle
from ghbootstrap.aws.session import Aws, Client
from ghbootstrap.errors import AwsError, ConflictError, GhbError, GitHubError
from ghbootstrap.github.api import GitHub, Holder, SecretInfo
from ghbootstrap.keyrecord import (
    NO_SECRET,
    STAGE_CREATED,
    STAGE_ID_STORED,
    KeyRecord,
    environment_of,
    record_scope,
    scope_tag,
)
from ghbootstrap.poll import until
from ghbootstrap.secret import Secret

SECRET_ID = "AWS_ACCESS_KEY_ID"  # noqa: S105 - a secret's name, not its value
SECRET_KEY = "AWS_SECRET_ACCESS_KEY"  # noqa: S105 - a name
NOT_YET_VALID = {"InvalidClientTokenId", "SignatureDoesNotMatch", "AccessDenied"}


@dataclass(frozen=True)
class KeyContext:
    aws: Aws
    gh: GitHub
    user: str
    scope: Holder
    keep_old_active: bool = False
    propagation_timeout: float = 120.0

    @property
    def scope_tag(self) -> str:
        """The scope as the record writes it."""
        return record_scope(self.scope.environment)


@dataclass(frozen=True)
class KeyState:
    keys: tuple[AccessKey, ...]
    record: KeyRecord
    id_secret: SecretInfo | None
    key_secret: SecretInfo | None
    # repair could not tell whether GitHub holds the held key's secret: install a new one
    doubtful: bool = False
    # 0.1.0's record, and the secrets proved to be the key it stored: `record` now holds
    # that proof, which `record_adopted` (or any later record write) keeps
    adopted: bool = False

    def key(self, key_id: str) -> AccessKey | None:
        return next((k for k in self.keys if k.id == key_id), None) if key_id else None

    @property
    def foreign_secrets(self) -> list[str]:
        """Secrets present that ghbootstrap cannot show it wrote last: none recorded, or
        GitHub's `updated_at` is not the one it reported after ghbootstrap's write."""
        written = {SECRET_ID: self.record.id_written, SECRET_KEY: self.record.secret_written}
        found = {SECRET_ID: self.id_secret, SECRET_KEY: self.key_secret}
        return [
            name
            for name, info in found.items()
            if info is not None and not (self.record.held and info.updated_at == written[name])
        ]

    @property
    def held_in_github(self) -> bool:
        """The recorded key exists, is active, and GitHub holds both secrets as written."""
        held = self.key(self.record.held)
        present = self.id_secret is not None and self.key_secret is not None
        return bool(held and held.active and present and not self.foreign_secrets) and (
            not self.doubtful
        )

    @property
    def unrecorded(self) -> list[AccessKey]:
        known = {self.record.held, self.record.retired, self.record.pending}
        return [k for k in self.keys if k.id not in known]


def read_state(ctx: KeyContext) -> KeyState:
    return state_of(ctx.aws.iam, ctx.gh, ctx.scope, user.get_user(ctx.aws.iam, ctx.user))


def state_of(iam: Client, gh: GitHub, scope: Holder, found: user.User | None) -> KeyState:
    """The key state of user `found` (None: no user) with its secrets in `scope`."""
    record = KeyRecord.from_tags(found.tags) if found else KeyRecord()
    keys = tuple(access_keys.list_keys(iam, found.name)) if found else ()
    return adopt_v0_1_0(
        KeyState(
            keys=keys,
            record=record,
            id_secret=gh.secret(scope, SECRET_ID),
            key_secret=gh.secret(scope, SECRET_KEY),
        )
    )


def adopt_v0_1_0(state: KeyState) -> KeyState:
    """0.1.0 recorded the key it stored (`key-held`) but not when it wrote the secrets.
    They are its own, and so ghbootstrap's, when the held key exists and is active and
    GitHub last wrote both secrets within the time 0.1.0 takes to store a key it made:
    from the key's CreateDate to the end of 0.1.0's propagation wait, in whole seconds
    (IAM and GitHub report whole seconds; moto adds microseconds, which would put a
    same-second write before the key). The record then gains the proof 0.1.0 did not
    keep. Anything else leaves the state as read: the secrets stay someone else's."""
    record, held = state.record, state.key(state.record.held)
    id_secret, key_secret = state.id_secret, state.key_secret
    if not record.v0_1_0 or record.pending or held is None or not held.active:
        return state
    if id_secret is None or key_secret is None:
        return state
    if not all(_while_0_1_0_stored(held.created, s.updated_at) for s in (id_secret, key_secret)):
        return state
    proven = replace(
        record, id_written=id_secret.updated_at, secret_written=key_secret.updated_at, v0_1_0=False
    )
    return replace(state, record=proven, adopted=True)


def _while_0_1_0_stored(created: datetime, updated_at: str) -> bool:
    try:
        written = datetime.fromisoformat(updated_at)
    except ValueError:
        return False
    start = created.replace(microsecond=0)
    return start <= written <= start + timedelta(seconds=frozen_v0_1_0.PROPAGATION_TIMEOUT)


def record_adopted(ctx: KeyContext, state: KeyState) -> None:
    """Write the record `adopt_v0_1_0` completed (the scope in today's form)."""
    _record(ctx, replace(state.record, scope=ctx.scope_tag))


def refuse_unsafe(ctx: KeyContext, state: KeyState, *, take_over: bool, fix: str) -> None:
    """Before planning any key change: the scope `keys` chose, no key the record does not
    name, and no secrets someone else wrote (unless `take_over`, with `fix` as the way)."""
    refuse_other_scope(ctx, state)
    refuse_unrecorded(ctx.user, state)
    refuse_foreign_secrets(ctx, state, take_over=take_over, fix=fix)


def refuse_unrecorded(user_name: str, state: KeyState) -> None:
    """A key the record does not name may be someone else's: never delete or crowd it."""
    if state.unrecorded:
        ids = ", ".join(k.id for k in state.unrecorded)
        raise ConflictError(
            f"IAM user {user_name} has access key {ids}, which ghbootstrap did not record "
            "as the key GitHub holds; someone else may use it",
            f"if nothing uses it, delete it: aws iam delete-access-key --user-name {user_name} "
            f"--access-key-id {state.unrecorded[0].id}",
        )


def removable_keys(iam: Client, found: user.User) -> list[AccessKey]:
    """The access keys `destroy` and `migrate --finish` delete with the user: every one,
    once none is a key the record does not name (someone else's credential, which no
    replacement was proven for: that stops the run before anything is removed)."""
    keys = access_keys.list_keys(iam, found.name)
    state = KeyState(tuple(keys), KeyRecord.from_tags(found.tags), None, None)
    refuse_unrecorded(found.name, state)
    return keys


def refuse_foreign_secrets(ctx: KeyContext, state: KeyState, *, take_over: bool, fix: str) -> None:
    """Never overwrite secrets ghbootstrap cannot show it wrote, unless told to (--force).
    A half-done change of ghbootstrap's own is not foreign: `repair` finishes it."""
    foreign = state.foreign_secrets
    if foreign and not take_over and not state.record.pending:
        verb, them = ("exist", "them") if len(foreign) > 1 else ("exists", "it")
        raise ConflictError(
            f"{' and '.join(foreign)} in {ctx.scope.label} {verb} and ghbootstrap cannot "
            f"show it wrote {them} last; another tool may use {them}",
            fix,
        )


def _scope_words(scope: str) -> str:
    try:
        environment = environment_of(scope)
    except LookupError:
        return scope
    return "repository" if environment is None else f"environment {environment}"


def refuse_other_scope(ctx: KeyContext, state: KeyState) -> None:
    recorded = state.record.scope
    environment = ctx.scope.environment
    if recorded and recorded not in (ctx.scope_tag, scope_tag(environment)):
        raise GhbError(
            f"the key of IAM user {ctx.user} is stored in GitHub's {_scope_words(recorded)}, "
            f"not {_scope_words(ctx.scope_tag)}",
            "pass the same --environment that `ghbootstrap keys` used",
        )


def _mark(info: SecretInfo | None) -> str:
    return info.updated_at if info else NO_SECRET


def _written(ctx: KeyContext, name: str) -> str:
    """The `updated_at` GitHub reports for a secret ghbootstrap has just written."""
    info = ctx.gh.secret(ctx.scope, name)
    return info.updated_at if info else ""


def _record(ctx: KeyContext, record: KeyRecord) -> None:
    user.tag_user(ctx.aws.iam, ctx.user, record.to_tags())


def _delete_key(ctx: KeyContext, key_id: str) -> None:
    access_keys.delete_key(ctx.aws.iam, ctx.user, key_id)


def _point_id_at(ctx: KeyContext, key_id: str) -> str:
    """Make AWS_ACCESS_KEY_ID name `key_id` again (an id is not secret), or name nothing.
    Returns the secret's `updated_at` now."""
    if key_id:
        ctx.gh.put_secret(ctx.scope, SECRET_ID, Secret(key_id))
        return _written(ctx, SECRET_ID)
    if ctx.gh.secret(ctx.scope, SECRET_ID) is not None:
        ctx.gh.delete_secret(ctx.scope, SECRET_ID)
    return ""


def _finish(ctx: KeyContext, record: KeyRecord, new_key: str, keys: tuple[AccessKey, ...]) -> None:
    """Step 4: the new key is held, proven by GitHub's `updated_at` for both secrets; the
    old one is retired, and deactivated."""
    old = record.held
    held = KeyRecord(
        held=new_key,
        retired=old,
        scope=ctx.scope_tag,
        id_written=_written(ctx, SECRET_ID),
        secret_written=_written(ctx, SECRET_KEY),
    )
    _record(ctx, held)
    if old and not ctx.keep_old_active and any(k.id == old and k.active for k in keys):
        access_keys.set_status(ctx.aws.iam, ctx.user, old, access_keys.INACTIVE)


def _undo(ctx: KeyContext, record: KeyRecord, new_key: str, *, id_touched: bool) -> None:
    """AWS_SECRET_ACCESS_KEY never took the new key's secret: put the old id back if
    GitHub may name the new key, then drop the new key and the pending record."""
    id_written = record.id_written
    if id_touched:
        try:
            if record.stage == STAGE_ID_STORED:  # a stopped undo must not read as "unknown"
                _record(ctx, replace(record, stage=STAGE_CREATED))
            id_written = _point_id_at(ctx, record.held)
        except GhbError:
            # GitHub may now name the new key: keep it, keep the pending record.
            raise GhbError(
                f"GitHub may hold a mismatched key pair in {ctx.scope.label}, and restoring "
                "the old key id failed too",
                "nothing was deleted; run `ghbootstrap rotate` again to repair",
            ) from None
    _delete_key(ctx, new_key)
    _record(
        ctx,
        replace(record, pending="", stage="", mark="", scope=ctx.scope_tag, id_written=id_written),
    )


def repair(ctx: KeyContext, state: KeyState) -> KeyState:
    """Finish or undo a key change an earlier run left half-done; return the new state.

    Stage `created`: AWS_SECRET_ACCESS_KEY was never sent the new secret, so undo.
    Stage `id-stored`: GitHub names the new key; if AWS_SECRET_ACCESS_KEY's `updated_at`
    moved since the mark, a write reached it: finish. If it did not move, nothing can tell
    (a write in the same second as the mark keeps it), and the new key's secret died with
    the run that made it: GitHub's id names the new key whatever happened, so the old key
    is retired and a fresh key installed over both (`doubtful`).
    A record 0.1.0 left pending has no stage: 0.1.0's own rule decides, finish if
    AWS_SECRET_ACCESS_KEY's `updated_at` moved since the mark (0.1.0 wrote it last, after
    the id), else undo.
    """
    record, pending = state.record, state.record.pending
    if not pending:
        return state
    if state.key(pending) is None:
        _record(ctx, replace(record, pending="", stage="", mark=""))
    elif record.v0_1_0 and _mark(state.key_secret) != record.mark:
        _finish(ctx, record, pending, state.keys)
    elif record.stage != STAGE_ID_STORED:
        _undo(ctx, record, pending, id_touched=True)
    elif _mark(state.key_secret) != record.mark:
        _finish(ctx, record, pending, state.keys)
    else:
        _record(ctx, KeyRecord(held=pending, retired=record.held, scope=ctx.scope_tag))
        return replace(read_state(ctx), doubtful=True)
    return read_state(ctx)


def _wait_until_it_works(ctx: KeyContext, key_id: str, secret: Secret) -> None:
    sts = ctx.aws.sts_as(key_id, secret)

    def attempt() -> str | None:
        try:
            return str(sts.get_caller_identity()["Arn"])
        except AwsError as exc:
            if exc.code in NOT_YET_VALID:
                return None
            raise

    until(
        attempt,
        timeout=ctx.propagation_timeout,
        what=f"authenticating with the new access key {key_id}",
        fix="IAM may be slow: run the command again, or raise --propagation-timeout",
    )


def _refused(failure: GhbError) -> bool:
    return isinstance(failure, GitHubError) and failure.refused


def _secret_landed(ctx: KeyContext, pending: KeyRecord, failure: GhbError) -> bool:
    """After a write whose outcome is unknown, did GitHub take the new secret? Only a
    moved `updated_at` says yes; an unmoved one cannot say no."""
    try:
        return _mark(ctx.gh.secret(ctx.scope, SECRET_KEY)) != pending.mark
    except GhbError:
        raise GhbError(
            f"storing the new key in {ctx.scope.label} failed ({failure.what}), and GitHub "
            "could not be read back to see what it holds",
            "nothing was deleted; run `ghbootstrap rotate` again to repair",
        ) from failure


def _store(ctx: KeyContext, pending: KeyRecord, key_id: str, secret: Secret) -> None:
    """Step 3. Returns once GitHub holds both secrets; otherwise undoes, or leaves a record
    `repair` can act on, and raises."""
    try:
        ctx.gh.put_secret(ctx.scope, SECRET_ID, Secret(key_id))
    except GhbError as failure:
        _undo(ctx, pending, key_id, id_touched=not _refused(failure))
        raise
    stored = replace(pending, stage=STAGE_ID_STORED)
    try:
        _record(ctx, stored)
    except GhbError:
        _undo(ctx, pending, key_id, id_touched=True)
        raise
    try:
        ctx.gh.put_secret(ctx.scope, SECRET_KEY, secret)
    except GhbError as failure:
        if _refused(failure):
            _undo(ctx, stored, key_id, id_touched=True)
            raise
        if not _secret_landed(ctx, stored, failure):
            raise GhbError(
                f"storing the new key in {ctx.scope.label} failed ({failure.what}), and "
                "GitHub cannot tell whether it took the new secret",
                "nothing was deleted; run `ghbootstrap rotate` again: it installs a fresh key",
            ) from failure


def install(ctx: KeyContext, state: KeyState) -> str:
    """Steps 1-4 on a state with nothing pending. Returns the id of the new key."""
    record = state.record
    if record.pending:
        raise GhbError(
            f"the key change to {record.pending} of IAM user {ctx.user} is unfinished",
            "run the command again: it finishes or undoes that change first",
        )
    refuse_unrecorded(ctx.user, state)
    retired = state.key(record.retired)
    if retired is not None and retired.id != record.held:
        _delete_key(ctx, retired.id)

    new_key, secret = settle(partial(access_keys.create_key, ctx.aws.iam, ctx.user))
    pending = replace(
        record,
        pending=new_key.id,
        stage=STAGE_CREATED,
        mark=_mark(state.key_secret),
        scope=ctx.scope_tag,
    )
    try:
        _record(ctx, pending)
    except GhbError:
        _delete_key(ctx, new_key.id)
        raise
    try:
        _wait_until_it_works(ctx, new_key.id, secret)
    except GhbError:
        _undo(ctx, pending, new_key.id, id_touched=False)
        raise
    _store(ctx, pending, new_key.id, secret)
    _finish(ctx, pending, new_key.id, state.keys)
    return new_key.id


def ensure(ctx: KeyContext, state: KeyState | None) -> str:
    """`keys`: make GitHub hold a working key, creating one only if it holds none.
    `state` is what planning read, or None when it read nothing."""
    state = repair(ctx, state or read_state(ctx))
    if state.held_in_github:
        return state.record.held
    return install(ctx, state)


def rotate(ctx: KeyContext, state: KeyState) -> str:
    """`rotate`: always a new key, after finishing anything left half-done."""
    return install(ctx, repair(ctx, state))


def adopted_detail(state: KeyState) -> str:
    return (
        f"0.1.0's record: GitHub's secrets were written within "
        f"{frozen_v0_1_0.PROPAGATION_TIMEOUT} s of key {state.record.held}'s creation, as "
        "0.1.0 stores a key: ghbootstrap's; that proof is recorded"
    )


def describe(state: KeyState, ctx: KeyContext) -> list[str]:
    """What `install` would do, for --dry-run."""
    steps = [adopted_detail(state)] if state.adopted else []
    if state.record.pending:
        steps.append(f"finish or undo the interrupted change to key {state.record.pending}")
    retired = state.key(state.record.retired)
    if retired is not None and retired.id != state.record.held:
        steps.append(f"delete retired key {retired.id}")
    steps.append(f"create a new key and store it in {ctx.scope.label}")
    if state.record.held:
        verb = "retire" if ctx.keep_old_active else "deactivate"
        steps.append(f"{verb} key {state.record.held}")
    return steps
