# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""A shared link: the Sites API can only find or create one, never list or delete it."""

from __future__ import annotations

from ._client import PlausibleError
from ._module import Outcome, ResourceError, missing_site
from . import _rules


def ensure_shared_link(client, params, check_mode, site_is_new=False):
    """Find or create a shared link. The Sites API cannot list them, so "found" and "created" look alike.

    ``changed`` is true only when the link cannot have existed before (its site is new in this run); otherwise it is
    false, because the server's find-or-create returns an existing link untouched. In check mode nothing is sent.
    """
    domain = _rules.normalize_domain(params['domain'])
    name = _rules.check_shared_link_name(params['name'])
    if params.get('state') == 'absent':
        raise ResourceError("state: absent is not possible: Plausible's Sites API can neither list nor delete shared "
                            "links. Delete %r in the dashboard (Site Settings > Visibility > Shared links)." % name)
    if check_mode:
        return Outcome(site_is_new, None, dict(name=name, url=None),
                       notes=['Check mode sent nothing: the Sites API cannot list shared links, so whether %r exists '
                              'and its URL are unknown until a real run.' % name])
    try:
        link = client.find_or_create_shared_link(domain, name)
    except PlausibleError as exc:
        if exc.site_not_found:
            raise missing_site(domain)
        raise
    return Outcome(site_is_new, None, link)
