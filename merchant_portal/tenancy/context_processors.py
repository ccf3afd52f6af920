from .roles import Perm
from .selectors import memberships_for_user


def merchant(request):
    """The current merchant, the user's other merchants (for the switcher) and what the role may do."""
    current = getattr(request, "merchant", None)
    membership = getattr(request, "membership", None)
    if not request.user.is_authenticated:
        return {}
    perms = {p.value: membership.has_perm(p) for p in Perm} if membership else {}
    return {
        "current_merchant": current,
        "current_membership": membership,
        "can": perms,
        "my_memberships": memberships_for_user(user=request.user),
    }
