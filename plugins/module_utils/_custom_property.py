# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""A custom property of a site: a name in the site's allow-list, added or removed, never re-sent."""

from __future__ import annotations

from ._client import PlausibleError
from ._module import list_site, missing_site
from . import _rules

TOO_MANY = "Can't add any more custom properties"


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
    if exc.status == 402:
        exc.message = ("The plan of %s's team does not include the Custom Properties feature, so no custom property can "
                       "be added; upgrade the plan or remove the property from the task. %s" % (domain, exc.message))
    elif exc.status == 400 and exc.error == TOO_MANY:
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
