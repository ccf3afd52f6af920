from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from merchant_portal.tenancy.services import merchant_create, set_password_path


class Command(BaseCommand):
    help = "Create a merchant and its first owner (an existing user, or a new one with a set-password link)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--owner", required=True, help="the owner's e-mail (or username of an existing user)")
        parser.add_argument("--slug", help="URL name, e.g. acme (default: from the name)")

    def handle(self, *args, name, owner, slug=None, **options):
        from django.conf import settings

        User = get_user_model()
        user = User.objects.filter(username=owner).first() or User.objects.filter(email__iexact=owner).first()
        link = None
        if user is None:
            if "@" not in owner:
                raise CommandError(f"No user {owner!r}; give an e-mail address to create one.")
            user = User.objects.create_user(username=owner.lower(), email=owner.lower())
            user.set_unusable_password()
            user.save()
            link = settings.PUBLIC_BASE_URL + set_password_path(user)
        merchant = merchant_create(name=name, owner=user, slug=slug)
        self.stdout.write(f"Created {merchant.name} at {settings.PUBLIC_BASE_URL}/m/{merchant.slug}/ owned by {user}.")
        if link:
            self.stdout.write(f"Send the owner this one-time link to choose a password: {link}")
