# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""A custom property of a site: a name in the site's allow-list, added or removed, never re-sent."""

from __future__ import annotations

from ._transport import PlausibleError
from ._module import Outcome, list_site, missing_site
from . import _rules

TOO_MANY = "Can't add any more custom properties"
PLUGINS_TOO_MANY = 'allowed_event_props: should have at most 300 item(s)'


class CustomPropertyResource:
    """One allowed custom property of a site, found in the site's listing (one GET, or ``known`` names).

    The engine never calls ``update``: a property has nothing but its name, so a found one is already as wanted.
    """

    name = 'custom_property'

    def __init__(self, client, params, known=None):
        self.client = client
        self.known = known
        self.domain = _rules.normalize_domain(params['domain'])
        self.property = _rules.normalize_property(params['property'])
        self.site_missing = False

    def read(self):
        names, self.site_missing = list_site(self.known, self.client.list_custom_properties, self.domain)
        return self._object() if self.property in names else None

    def _object(self):
        return dict(domain=self.domain, property=self.property)

    def desired(self, current):
        return current or self._object()

    def create(self, wanted):
        # Only reached for a missing property: re-adding an existing one would move it to the front of the list.
        if self.site_missing:
            raise missing_site(self.domain)
        try:
            self.client.add_custom_property(self.domain, self.property)
        except PlausibleError as exc:
            raise _explain(exc, self.domain)
        return wanted

    def delete(self, current):
        self.client.delete_custom_property(self.domain, self.property)


def _explain(exc, domain):
    """Say what the server's terse answers mean for the user (API file §6.11)."""
    if exc.status == 402:  # the Sites API and the Plugins API both answer 402 when the plan lacks the feature
        exc.message = ("The plan of %s's team does not include the Custom Properties feature, so no custom property can "
                       "be added; upgrade the plan or remove the property from the task. %s" % (domain, exc.message))
    elif exc.error in (TOO_MANY, PLUGINS_TOO_MANY):
        exc.message = ('%s already has %d custom properties, the most Plausible allows per site; remove some first (for '
                       'example with state: absent). %s' % (domain, _rules.MAX_SITE_CUSTOM_PROPERTIES, exc.message))
    return exc


def custom_property_resources(client, domain, names, known=None, option='custom_properties'):
    """The resources of one site's declared property names, sharing one listing (``known``; ``[]`` for a new site).

    Names are validated as the server would, and a name declared twice (after trimming) is refused.
    """
    resources, seen = [], set()
    for index, name in enumerate(names):
        where = '%s[%d]' % (option, index)
        resource = CustomPropertyResource(client, dict(domain=domain, property=_rules.normalize_property(name, where)), known)
        if resource.property in seen:
            raise _rules.InputError('%s: %r is declared more than once' % (where, resource.property))
        seen.add(resource.property)
        resources.append(resource)
    return resources


def custom_properties_to_purge(client, domain, declared, known):
    """Resources for what the server lists (``known``) and ``declared`` (resources) does not: ensure them absent."""
    keep = set(resource.property for resource in declared)
    return [CustomPropertyResource(client, dict(domain=domain, property=name), known)
            for name in known if name not in keep]


def ensure_custom_property_through_token(api, params, check_mode):
    """The Plugins API has no read route for custom properties, so whether one exists cannot be known without writing.

    Check mode sends nothing; a real run enables (or disables) the property, which is harmless when it already is (an
    enabled one moves to the front of the site's list). ``changed`` is false, as it cannot be known; a note says so.
    """
    domain = _rules.normalize_domain(params['domain'])
    name = _rules.normalize_property(params['property'])
    wanted = dict(domain=domain, property=name)
    present = params.get('state', 'present') == 'present'
    if check_mode:
        return Outcome(False, None, wanted if present else None, notes=[
            'Check mode sent nothing: the Plugins API cannot list custom properties, so whether %r is allowed on %s is '
            'unknown; a real run %s it, which changes nothing when it already is.'
            % (name, domain, 'allows' if present else 'removes')])
    if present:
        try:
            api.add_custom_properties([name])
        except PlausibleError as exc:
            raise _explain(exc, domain)
        return Outcome(False, None, wanted, notes=[
            'The Plugins API cannot tell whether %r was allowed before, so changed is false; give api_key to manage '
            'custom properties through the Sites API, which can list them.' % name])
    api.delete_custom_properties([name])
    return Outcome(False, None, None, notes=['The Plugins API cannot tell whether %r was allowed before, so changed is '
                                             'false.' % name])
