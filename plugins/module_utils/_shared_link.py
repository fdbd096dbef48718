# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""A shared link: the Plugins API can list links and protect a new one with a password; the Sites API can only find
or create one, never list it. Neither can delete, rename or change a link's password."""

from __future__ import annotations

from ._transport import PlausibleError
from ._module import Outcome, ResourceError, missing_site
from . import _rules


def ensure_shared_link(client, params, check_mode, site_is_new=False):
    """Find or create a shared link. The Sites API cannot list them, so "found" and "created" look alike.

    ``changed`` is true only when the link cannot have existed before (its site is new in this run); otherwise it is
    false, because the server's find-or-create returns an existing link untouched. In check mode nothing is sent.
    """
    domain = _rules.normalize_domain(params['domain'])
    name = check_link(params)
    if params.get('password'):
        raise _rules.InputError('password: only the Plugins API can protect a shared link with a password; give the '
                                "site's plugin_token")
    if check_mode:
        client.resolve_expected()
        return Outcome(site_is_new, None, dict(name=name, url=None),
                       notes=['Check mode sent nothing but a read of the site: the Sites API cannot list shared links, '
                              'so whether %r exists and its URL are unknown until a real run.' % name])
    try:
        link = client.find_or_create_shared_link(domain, name)
    except PlausibleError as exc:
        if exc.site_not_found:
            raise missing_site(domain)
        raise
    return Outcome(site_is_new, None, link)


def check_link(params, plugins_api=False):
    """The link's name, once the request is known to be possible at all."""
    name = _rules.check_shared_link_name(params['name'], plugins_api)
    if params.get('state') == 'absent':
        raise ResourceError("state: absent is not possible: Plausible's APIs cannot delete shared links. Delete %r in "
                            "the dashboard (Site Settings > Visibility > Shared links)." % name)
    return name


class SharedLinkResource:
    """A shared link through the Plugins API, which lists them: ``changed``, check mode and diff are exact.

    A password is applied only when the link is created; the API cannot change or remove it later, nor tell its value,
    so an existing link whose protection differs from the task fails instead.
    """

    name = 'shared_link'

    def __init__(self, api, params, known=None):
        self.api = api
        self.domain = _rules.normalize_domain(params['domain'])
        self.link_name = check_link(params, plugins_api=True)
        self.password = params.get('password') or None
        # {name, password_protected: true} (as plausible_site_info exports a protected link): it exists and is
        # protected; leave it. A new link cannot be made so, as its password is unknown.
        self.protected = self.password is not None or bool(params.get('password_protected'))
        self.known = known

    def read(self):
        links = self.known if self.known is not None else self.api.list_shared_links()
        link = next((link for link in links if link['name'] == self.link_name), None)
        return None if link is None else _link(link)

    def desired(self, current):
        protected = self.protected
        if current is None:
            if protected and self.password is None:
                raise ResourceError('password: the shared link %r of %s does not exist, and a new link needs its password '
                                    '(password_protected: true only accepts an existing protected link); give password '
                                    '(nothing was changed).' % (self.link_name, self.domain))
            return dict(id=None, name=self.link_name, url=None, password_protected=protected)
        if current['password_protected'] != protected:
            raise ResourceError(
                'password: the shared link %r of %s is %s, and the Plugins API cannot add, change or remove a password. '
                '%s, or delete the link in the dashboard (Site Settings > Visibility > Shared links) to have it made '
                'again (nothing was changed).' % (
                    self.link_name, self.domain, 'password protected' if current['password_protected'] else 'not protected',
                    'Set password' if current['password_protected'] else 'Drop password and password_protected'))
        return current

    def create(self, wanted):
        return _link(self.api.find_or_create_shared_link(self.link_name, self.password))


def diff_view(link):
    """A link as a diff shows it: its name and protection, never its URL (which grants access like a password)."""
    return dict(name=link['name'], password_protected=link['password_protected']) if link else {}


def _link(link):
    """The Plugins API's link in the module's shape: ``url`` as the Sites API names it."""
    return dict(id=link['id'], name=link['name'], url=link['href'], password_protected=link['password_protected'])
