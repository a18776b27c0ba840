"""MLflow's permission levels and how the contract's ``Access`` values compare with them."""

from __future__ import annotations

from collections.abc import Mapping

from runstash_protos.errors import invalid_parameter
from runstash_protos.options_pb2 import Access

NO_PERMISSIONS = "NO_PERMISSIONS"
# MLflow's order; a grant of a level allows every action of the levels below it.
RANK = {NO_PERMISSIONS: 0, "READ": 1, "USE": 2, "EDIT": 3, "MANAGE": 4}
NAMES = {rank: name for name, rank in RANK.items()}
READ_RANK = RANK["READ"]

# The rank a contract Access needs (PUBLIC/AUTHENTICATED/ADMIN are not resource levels).
NEEDED: dict[int, int] = {Access.READ: 1, Access.USE: 2, Access.EDIT: 3, Access.MANAGE: 4}

GRANTABLE_TYPES = ("experiment", "registered_model")


def manages_everything(grants: Mapping[tuple[str, str], str]) -> bool:
    """MLflow: a workspace-wide MANAGE grant (type "workspace", or "*" as its migration writes it)
    is MANAGE on every resource of the workspace."""
    return "MANAGE" in (grants.get(("workspace", "*")), grants.get(("*", "*")))


def rank_of(permission: str) -> int:
    try:
        return RANK[permission]
    except KeyError:
        raise invalid_parameter(
            f"Invalid permission '{permission}'. Valid permissions are: {', '.join(RANK)}"
        ) from None


def check_resource_type(resource_type: str) -> None:
    if resource_type == "workspace":
        raise invalid_parameter(
            "resource_type 'workspace' is not supported by the per-user permission convenience APIs. "
            "Use set_workspace_permission / delete_workspace_permission for workspace-wide grants."
        )
    if resource_type not in GRANTABLE_TYPES:
        raise invalid_parameter(
            f"Invalid resource_type '{resource_type}'. Valid types are: {', '.join(GRANTABLE_TYPES)}"
        )
