"""Put a new access key into GitHub without ever leaving CI without a working key.

The order (shared by `keys` and `rotate`):

1. delete the key the previous rotation retired; any other unrecorded key stops the run;
2. create the new key, record it as pending, wait until it authenticates;
3. write AWS_ACCESS_KEY_ID, then AWS_SECRET_ACCESS_KEY. If the second write fails, the
   old id is written back, so GitHub always holds a matching pair; if even that fails,
   nothing is deleted (GitHub may name the new key) and the next run repairs;
4. record the new key as held, and only then deactivate the old one (the next rotation
   deletes it; --keep-old-active leaves it active for queued jobs).

Any failure before step 4 deletes the new key and leaves the old key and the secrets as
they were. A run that stopped half-way is finished or undone by the next (`repair`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

from ghbootstrap.aws import access_keys, user
from ghbootstrap.aws.access_keys import AccessKey
from ghbootstrap.aws.session import Aws
from ghbootstrap.aws.settle import settle
from ghbootstrap.errors import AwsError, ConflictError, GhbError
from ghbootstrap.github.api import GitHub, Scope, SecretInfo
from ghbootstrap.keyrecord import NO_SECRET, KeyRecord
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
    scope: Scope
    scope_tag: str
    keep_old_active: bool = False
    propagation_timeout: float = 120.0


@dataclass(frozen=True)
class KeyState:
    keys: tuple[AccessKey, ...]
    record: KeyRecord
    id_secret: SecretInfo | None
    key_secret: SecretInfo | None

    def key(self, key_id: str) -> AccessKey | None:
        return next((k for k in self.keys if k.id == key_id), None) if key_id else None

    @property
    def held_in_github(self) -> bool:
        """The recorded key exists, is active, and both secrets are in GitHub."""
        held = self.key(self.record.held)
        return bool(held and held.active and self.id_secret and self.key_secret)

    @property
    def unrecorded(self) -> list[AccessKey]:
        known = {self.record.held, self.record.retired, self.record.pending}
        return [k for k in self.keys if k.id not in known]


def read_state(ctx: KeyContext) -> KeyState:
    found = user.get_user(ctx.aws.iam, ctx.user)
    record = KeyRecord.from_tags(found.tags) if found else KeyRecord()
    keys = tuple(access_keys.list_keys(ctx.aws.iam, ctx.user)) if found else ()
    return KeyState(
        keys=keys,
        record=record,
        id_secret=ctx.gh.secret(ctx.scope, SECRET_ID),
        key_secret=ctx.gh.secret(ctx.scope, SECRET_KEY),
    )


def refuse_unrecorded(ctx: KeyContext, state: KeyState) -> None:
    """A key the record does not name may be someone else's: never delete or crowd it."""
    if state.unrecorded:
        ids = ", ".join(k.id for k in state.unrecorded)
        raise ConflictError(
            f"IAM user {ctx.user} has access key {ids}, which ghbootstrap did not record "
            "as the key GitHub holds; someone else may use it",
            f"if nothing uses it, delete it: aws iam delete-access-key --user-name {ctx.user} "
            f"--access-key-id {state.unrecorded[0].id}",
        )


def refuse_other_scope(ctx: KeyContext, state: KeyState) -> None:
    recorded = state.record.scope
    if recorded and recorded != ctx.scope_tag:
        raise GhbError(
            f"the key of IAM user {ctx.user} is stored in GitHub's {recorded}, not {ctx.scope_tag}",
            "pass the same --environment that `ghbootstrap keys` used",
        )


def _mark(info: SecretInfo | None) -> str:
    return info.updated_at if info else NO_SECRET


def _record(ctx: KeyContext, record: KeyRecord) -> None:
    user.tag_user(ctx.aws.iam, ctx.user, record.to_tags())


def _delete_key(ctx: KeyContext, key_id: str) -> None:
    access_keys.delete_key(ctx.aws.iam, ctx.user, key_id)


def _point_id_at(ctx: KeyContext, key_id: str) -> None:
    """Make AWS_ACCESS_KEY_ID name `key_id` again (an id is not secret), or name nothing."""
    if key_id:
        ctx.gh.put_secret(ctx.scope, SECRET_ID, Secret(key_id))
    elif ctx.gh.secret(ctx.scope, SECRET_ID) is not None:
        ctx.gh.delete_secret(ctx.scope, SECRET_ID)


def _finish(ctx: KeyContext, record: KeyRecord, new_key: str, keys: tuple[AccessKey, ...]) -> None:
    """Step 4: the new key is held; the old one is retired, and deactivated."""
    old = record.held
    _record(ctx, KeyRecord(held=new_key, retired=old, scope=ctx.scope_tag))
    if old and not ctx.keep_old_active and any(k.id == old and k.active for k in keys):
        access_keys.set_status(ctx.aws.iam, ctx.user, old, access_keys.INACTIVE)


def _undo(ctx: KeyContext, record: KeyRecord, new_key: str, *, id_touched: bool) -> None:
    """Put the old id back if it may have been overwritten, then drop the new key."""
    if id_touched:
        try:
            _point_id_at(ctx, record.held)
        except GhbError:
            # GitHub may now name the new key: keep it, keep the pending record.
            raise GhbError(
                f"GitHub may hold a mismatched key pair in {ctx.scope.label}, and restoring "
                "the old key id failed too",
                "nothing was deleted; run `ghbootstrap rotate` again to repair",
            ) from None
    _delete_key(ctx, new_key)
    _record(ctx, replace(record, pending="", mark="", scope=ctx.scope_tag))


def repair(ctx: KeyContext, state: KeyState) -> KeyState:
    """Finish or undo a key change an earlier run left half-done; return the new state."""
    record, pending = state.record, state.record.pending
    if not pending:
        return state
    if state.key(pending) is None:
        _record(ctx, replace(record, pending="", mark=""))
    elif _mark(state.key_secret) != record.mark:
        # AWS_SECRET_ACCESS_KEY changed after the install began: it holds the new secret.
        _finish(ctx, record, pending, state.keys)
    else:
        _undo(ctx, record, pending, id_touched=True)
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


def _secret_landed(ctx: KeyContext, pending: KeyRecord, failure: GhbError) -> bool:
    """After a failed write, did GitHub take the new secret anyway? Ask it."""
    try:
        return _mark(ctx.gh.secret(ctx.scope, SECRET_KEY)) != pending.mark
    except GhbError:
        raise GhbError(
            f"storing the new key in {ctx.scope.label} failed ({failure.what}), and GitHub "
            "could not be read back to see what it holds",
            "nothing was deleted; run `ghbootstrap rotate` again to repair",
        ) from failure


def install(ctx: KeyContext, state: KeyState) -> str:
    """Steps 1-4 on a state with nothing pending. Returns the id of the new key."""
    record = state.record
    assert not record.pending, "repair() first"
    refuse_unrecorded(ctx, state)
    retired = state.key(record.retired)
    if retired is not None and retired.id != record.held:
        _delete_key(ctx, retired.id)

    new_key, secret = settle(partial(access_keys.create_key, ctx.aws.iam, ctx.user))
    pending = replace(record, pending=new_key.id, mark=_mark(state.key_secret), scope=ctx.scope_tag)
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
    try:
        ctx.gh.put_secret(ctx.scope, SECRET_ID, Secret(new_key.id))
        ctx.gh.put_secret(ctx.scope, SECRET_KEY, secret)
    except GhbError as failure:
        if not _secret_landed(ctx, pending, failure):
            _undo(ctx, pending, new_key.id, id_touched=True)
            raise
    _finish(ctx, pending, new_key.id, state.keys)
    return new_key.id


def ensure(ctx: KeyContext, state: KeyState | None) -> str:
    """`keys`: make GitHub hold a working key, creating one only if it holds none.
    `state` is what planning read, or None when the user did not exist yet."""
    state = repair(ctx, state or read_state(ctx))
    if state.held_in_github:
        return state.record.held
    return install(ctx, state)


def rotate(ctx: KeyContext, state: KeyState) -> str:
    """`rotate`: always a new key, after finishing anything left half-done."""
    return install(ctx, repair(ctx, state))


def describe(state: KeyState, ctx: KeyContext) -> list[str]:
    """What `install` would do, for --dry-run."""
    steps = []
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
