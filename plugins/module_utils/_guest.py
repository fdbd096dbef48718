# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""A guest of a site: invited, found by exact e-mail, never given another role except by a new invitation."""

from __future__ import annotations

from ._client import INTERNAL_ERROR, PlausibleError
from ._module import ResourceError, list_site, missing_site
from . import _rules


class GuestResource:
    """A guest membership or pending invitation of a site, found by exact e-mail in the guest listing (or ``known``).

    The server keeps an existing guest's role and ignores the one sent (API file §6.13), so a different role is
    refused unless ``reinvite`` is true; then the update deletes the guest and invites again.
    """

    name = 'guest'

    def __init__(self, client, params, check_mode=False, known=None, reinvite_option='reinvite'):
        self.client = client
        self.check_mode = check_mode
        self.known = known
        self.reinvite_option = reinvite_option
        self.domain = _rules.normalize_domain(params['domain'])
        email = params['email']
        # The local rule is simpler than the server's: an address the server already lists is taken as it is.
        listed = known is not None and any(guest['email'] == email for guest in known)
        self.email = email if listed else _rules.check_email(email)
        self.role = _rules.check_guest_role(params.get('role') or 'viewer')
        self.reinvite = params.get('reinvite', False)
        self.site_missing = False

    def read(self):
        guests, self.site_missing = list_site(self.known, self.client.list_guests, self.domain)
        match = next((guest for guest in guests if guest['email'] == self.email), None)
        return None if match is None else self._object(match['role'], match['status'])

    def _object(self, role, status):
        return dict(domain=self.domain, email=self.email, role=role, status=status)

    def desired(self, current):
        if current is None:
            if self.site_missing and not self.check_mode:
                raise missing_site(self.domain)
            return self._object(self.role, 'invited')
        if current['role'] == self.role:
            return current
        if not self.reinvite:
            raise ResourceError(
                'Guest %s of %s is a %s (%s); Plausible keeps a guest\'s role and ignores a new one. Set %s: true to '
                'remove the guest and invite again as %s (a new invitation e-mail is sent, and a guest who had accepted '
                'must accept again), or change the task to match (nothing was changed).'
                % (self.email, self.domain, current['role'], current['status'], self.reinvite_option, self.role))
        return self._object(self.role, 'invited')

    def create(self, wanted):
        try:
            guest = self.client.invite_guest(self.domain, self.email, self.role)
        except PlausibleError as exc:
            if exc.status == 500 and exc.error == INTERNAL_ERROR:
                exc.message = ('Plausible could not invite %s to %s. The likely cause: the address belongs to a member of '
                               "the site's team, who cannot also be a guest; otherwise the team's member limit or an "
                               'address the server refuses. %s' % (self.email, self.domain, exc.message))
            raise
        if guest['role'] != self.role:
            # The listing did not show the guest, but the server found one (invited meanwhile) and kept its role.
            raise ResourceError('Guest %s of %s already exists as a %s; run the task again to compare the roles.'
                                % (self.email, self.domain, guest['role']))
        return self._object(guest['role'], guest['status'])

    def update(self, current, wanted):
        self.delete(current)
        removed = 'Guest %s was removed from %s to be invited again, but the invitation failed: ' % (self.email, self.domain)
        try:
            return self.create(wanted)
        except PlausibleError as exc:
            exc.message = removed + exc.message
            raise
        except ResourceError as exc:
            raise ResourceError(removed + str(exc))

    def delete(self, current):
        self.client.delete_guest(self.domain, self.email)


def guest_resources(client, domain, guests, check_mode=False, known=None, reinvite=False, option='guests',
                    reinvite_option='reinvite_guests'):
    """The resources of one site's declared guests (``{email, role}`` each), sharing one listing (``known``; ``[]`` for
    a new site). An e-mail declared twice is refused."""
    resources, seen = [], set()
    for index, guest in enumerate(guests):
        where = '%s[%d]' % (option, index)
        try:
            resource = GuestResource(client, dict(guest, domain=domain, reinvite=reinvite), check_mode, known,
                                     reinvite_option)
        except _rules.InputError as exc:
            raise _rules.InputError('%s.%s' % (where, exc))
        if resource.email in seen:
            raise _rules.InputError('%s.email: %r is declared more than once' % (where, resource.email))
        seen.add(resource.email)
        resources.append(resource)
    return resources


def guests_to_purge(client, domain, declared, known, check_mode=False):
    """Resources for the guests the server lists (``known``) and ``declared`` (resources) does not: ensure them absent."""
    keep = set(resource.email for resource in declared)
    return [GuestResource(client, dict(domain=domain, email=guest['email'], role=guest['role']), check_mode, known)
            for guest in known if guest['email'] not in keep]
