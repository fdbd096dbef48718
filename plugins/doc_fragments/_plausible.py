# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this doc fragment is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

from __future__ import annotations


class ModuleDocFragment:
    # The options of plausible_argument_spec() in plugins/module_utils/_module.py, exactly; a unit test checks it.
    DOCUMENTATION = r"""
options:
  api_url:
    description:
      - Base URL of the Plausible server, for example V(https://plausible.io) or your Enterprise server's address.
      - A trailing slash or a pasted C(/api/v1) or C(/api/plugins/v1) path is tolerated.
      - If not set, the environment variable E(PLAUSIBLE_API_URL) is used, then E(PLAUSIBLE_URL).
      - Self-hosted Community Edition servers have no Sites API; reach them with O(plugin_token).
    type: str
    default: https://plausible.io
    aliases: [url]
  api_key:
    description:
      - "A Plausible API key of the type C(Sites API), sent in the C(Authorization: Bearer) header. It reaches the Sites
        API, which exists on plausible.io and Enterprise servers."
      - A C(Stats API) key can read but not change anything.
      - If not set, the environment variable E(PLAUSIBLE_API_KEY) is used.
      - One of O(api_key) and O(plugin_token) is required. The key never appears in results, messages, diffs or logs.
    type: str
  plugin_token:
    description:
      - A Plugins API token of one site, sent as the password of HTTP Basic authentication. It reaches the Plugins API,
        which self-hosted Community Edition servers have too; there it is the only way in.
      - Make one in the dashboard at C(<api_url>/<domain>/settings/integrations?new_token=Ansible) (Site Settings >
        Integrations > Plugin tokens); it is shown once.
      - A token is bound to one site. The module checks once per run that it belongs to the task's site, and fails on
        a token of another site or a revoked one.
      - Where it is given, the site's goals, shared links, custom properties and tracker configuration go through the
        Plugins API; what only the Sites API can do (creating, renaming or deleting a site, time zones, guests, listing
        sites) needs O(api_key).
      - If not set, the environment variable E(PLAUSIBLE_PLUGIN_TOKEN) is used. The token never appears in results,
        messages, diffs or logs.
    type: str
  validate_certs:
    description:
      - Whether to verify the server's TLS certificate. Setting it to V(false) warns, because the key could reach an impostor.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for each HTTP response.
    type: int
    default: 30
  retries:
    description:
      - How often a request is sent again after a burst rate limit (HTTP 429), a server or proxy failure (HTTP 5xx other
        than the API's own C(internal server error)), a timeout or a broken connection.
      - Reads and idempotent writes are retried with exponential backoff and jitter. A site creation is retried only after
        a read shows that the first attempt did not create the site.
      - Every wait and retry is reported as a warning.
    type: int
    default: 3
  rate_limit_wait:
    description:
      - Plausible allows 600 requests an hour. When the hourly limit is hit, wait for the next hourly window if it starts
        within this many seconds; otherwise fail and say when the window resets.
      - The burst limit (60 requests in 10 seconds) is always waited out, and each module also paces itself to stay under it.
    type: int
    default: 60
requirements:
  - requests
"""

    ACTIONGROUP = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/plausible.analytics.plausible) in C(module_defaults) to set the shared options once.
    support: full
    membership:
      - plausible.analytics.plausible
"""

    ATTRIBUTES = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
"""

    # The shared options as plausible_verify takes them (verify_argument_spec() in plugins/module_utils/_verify_module.py):
    # accepted so that the action group's module_defaults apply, but credentials are ignored and api_url has no alias
    # (that module's url is the page). Its own timeout and validate_certs are documented in the module.
    VERIFY = r"""
options:
  api_url:
    description:
      - Base URL of the Plausible server, for example V(https://plausible.io) or your own server's address.
      - Only used to tell a script or event endpoint on the Plausible server from a proxied one (RV(snippet.proxied)).
        Nothing is sent to it unless the page loads its script from there.
      - If not set, the environment variable E(PLAUSIBLE_API_URL) is used, then E(PLAUSIBLE_URL).
      - Unlike the other modules of the collection it has no alias C(url), because O(url) is the page here.
    type: str
    default: https://plausible.io
  api_key:
    description:
      - Accepted so that C(module_defaults) for the action group C(group/plausible.analytics.plausible) apply, and ignored.
      - The key is never sent anywhere, also not to the Plausible server.
    type: str
  plugin_token:
    description:
      - Accepted so that C(module_defaults) for the action group apply, and ignored; never sent anywhere.
    type: str
  retries:
    description:
      - Accepted so that C(module_defaults) for the action group apply, and ignored; a verification sends each request once.
    type: int
    default: 3
  rate_limit_wait:
    description:
      - Accepted so that C(module_defaults) for the action group apply, and ignored.
    type: int
    default: 60
requirements:
  - requests
"""
