# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""What every module shares: the options, the client set-up, the read → compare → write machine, the errors."""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Mapping
import traceback
from urllib.parse import urlparse

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib
from ansible.module_utils.common.validation import check_type_dict

from ._plugins_api import PluginsApi
from ._sites_api import SitesApi
from ._transport import HAS_REQUESTS, REQUESTS_IMPORT_ERROR, PlausibleError, Transport, normalize_base_url
from ._rules import InputError


def plausible_argument_spec():
    """The options every module takes; ``plugins/doc_fragments/_plausible.py`` documents exactly these."""
    return dict(
        api_url=dict(type='str', default='https://plausible.io', aliases=['url'],
                     fallback=(env_fallback, ['PLAUSIBLE_API_URL', 'PLAUSIBLE_URL'])),
        api_key=dict(type='str', no_log=True, fallback=(env_fallback, ['PLAUSIBLE_API_KEY'])),
        plugin_token=dict(type='str', no_log=True, fallback=(env_fallback, ['PLAUSIBLE_PLUGIN_TOKEN'])),
        validate_certs=dict(type='bool', default=True),
        timeout=dict(type='int', default=30),
        retries=dict(type='int', default=3),
        rate_limit_wait=dict(type='int', default=60),
    )


# An unknown key whose name says it holds a secret (a misspelt api_key, password, token): the run fails on it anyway.
SECRET_NAME = re.compile(r'key|token|pass|secret|auth|header', re.I)


def secret_values(spec, params, raw_secrets=None):
    """Every value that ``params`` (the arguments as given, before any check) holds under a ``no_log`` option of
    ``spec``, at any depth of suboptions, under a key that ``raw_secrets`` names, or under an unknown key whose name
    is like a secret's.

    Lenient by design: a string where a dict is expected is parsed as ansible-core would, anything else is skipped.
    """
    found, raw_secrets = set(), raw_secrets or {}
    secret_names = [name for name, option in (spec or {}).items() if option.get('no_log')] + list(raw_secrets)
    for key, value in params.items():
        option = _option(spec, key)
        extra = raw_secrets.get(key)
        if (option or {}).get('no_log') or extra is True or (option is None and not key.startswith('_ansible_') and (
                SECRET_NAME.search(key) or difflib.get_close_matches(key, secret_names, n=1, cutoff=0.8))):
            found.update(_leaves(value, parse=(option or {}).get('type') == 'dict'))
        sub_spec, sub_extra = (option or {}).get('options'), extra if isinstance(extra, dict) else None
        if sub_spec or sub_extra:
            for item in _dicts(value):
                found.update(secret_values(sub_spec, item, sub_extra))
    return found


def _option(spec, key):
    if spec is None:
        return None
    if key in spec:
        return spec[key]
    return next((option for option in spec.values() if key in (option.get('aliases') or [])), None)


def _dicts(value):
    """The dicts in a value given for a dict option or a list of them; strings as ansible-core parses them."""
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str):
            try:
                item = check_type_dict(item)
            except TypeError:
                continue
        if isinstance(item, Mapping):
            yield item


def _leaves(value, parse=False):
    """The strings that show a secret value as ansible-core's no_log does (of a dict, its values; of a list, its
    items); ``parse``: a string given for a dict option is parsed too, as ansible-core will convert it."""
    if isinstance(value, str):
        found = set([value]) if value else set()
        for parsed in _dicts(value) if parse else []:
            found.update(_leaves(parsed))
        return found
    if isinstance(value, Mapping):
        value = list(value.values())
    if isinstance(value, (list, tuple, set)):
        return set(leaf for item in value for leaf in _leaves(item))
    if isinstance(value, (bool, type(None))):
        return set()
    return set([str(value)])


class MaskingModule(AnsibleModule):
    """An AnsibleModule that hides every secret given before it checks a single argument.

    ansible-core collects the no_log values while it validates, so a failure before that point (before 2.21: an
    element that is not a dict, a string where a list of dicts belongs) showed the secrets in the invocation. Reading
    the arguments is the one step before validation (``_load_params``, which ansible-core keeps for this use).
    """

    def __init__(self, raw_secrets=None, **kwargs):
        self._raw_secrets = raw_secrets
        super().__init__(**kwargs)

    def _load_params(self):
        super()._load_params()
        self.no_log_values.update(secret_values(self.argument_spec, self.params, self._raw_secrets))


# What a message may claim only while nothing was written (``PlausibleModule.fail`` drops it after a write).
NOTHING_CHANGED = re.compile(r'\s*\(nothing was changed\)|;?\s*nothing was changed\.?', re.IGNORECASE)


class ResourceError(Exception):
    """The user asked for something this object cannot become through the API; this object was not changed."""


def missing_site(domain):
    return ResourceError('Site %s does not exist; create it first with plausible.analytics.plausible_site.' % domain)


def list_site(known, listing, domain):
    """What a site holds of one kind: ``known`` when the caller listed it already, else ``listing(domain)``.

    Returns ``(items, site_missing)``: a missing site holds nothing; each resource decides whether that is fatal
    (check mode predicts instead, because an earlier task of the same run may create the site).
    """
    if known is not None:
        return known, False
    try:
        return listing(domain), False
    except PlausibleError as exc:
        if not exc.site_not_found:
            raise
        return [], True


class Outcome:
    """What ``ensure`` did to one object: whether it changed, and the object before and after."""

    def __init__(self, changed, before, after, notes=None):
        self.changed = changed
        self.before = before
        self.after = after
        self.notes = notes or []


def ensure(resource, state, check_mode):
    """Make one object match ``state``: read it, compare what the user gave, then create, update or delete.

    In check mode nothing that writes is sent; the predicted object is returned instead.
    """
    current = resource.read()
    if state == 'absent':
        if current is None:
            return Outcome(False, None, None)
        if not check_mode:
            resource.delete(current)
        return Outcome(True, current, None)
    wanted = resource.desired(current)
    if wanted == current:
        return Outcome(False, current, current)
    if check_mode:
        return Outcome(True, current, wanted)
    after = resource.create(wanted) if current is None else resource.update(current, wanted)
    return Outcome(True, current, after)


class PlausibleModule:
    """An AnsibleModule with the shared options, one surface per API a credential reaches, and one way of reporting."""

    def __init__(self, argument_spec, credentials_required=True, raw_secrets=None, **kwargs):
        """``credentials_required=False`` lets a module take its credentials elsewhere (plausible_sites: per site).

        ``raw_secrets`` names secret keys inside options of type raw, which no spec can flag, as nested dicts:
        ``dict(sites=dict(shared_links=dict(password=True)))``.
        """
        spec = plausible_argument_spec()
        spec.update(argument_spec)
        self.module = MaskingModule(argument_spec=spec, supports_check_mode=True, raw_secrets=raw_secrets, **kwargs)
        if not HAS_REQUESTS:
            self.module.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
        params = self.module.params
        self.params = params
        self.check_mode = self.module.check_mode
        self.partial = {}  # what work() has finished: returned beside an error
        api_key, plugin_token = ((params[name] or '').strip() for name in ('api_key', 'plugin_token'))
        if credentials_required and not api_key and not plugin_token:
            self.module.fail_json(msg='Invalid input, nothing was sent: api_key, plugin_token: one of them is required and '
                                      'both are empty; give an API key for the Sites API or a site\'s plugin token for '
                                      'the Plugins API')
        url = urlparse(normalize_base_url(params['api_url']))
        if url.scheme not in ('http', 'https') or not url.hostname:
            self.module.fail_json(msg='Invalid input, nothing was sent: api_url: must be an http:// or https:// URL such '
                                      'as https://plausible.io (got %r)' % params['api_url'])
        self.transport = Transport(
            params['api_url'], validate_certs=params['validate_certs'], timeout=params['timeout'],
            retries=params['retries'], rate_limit_wait=params['rate_limit_wait'], notify=self.module.warn)
        # One surface per credential given; a resource uses the Plugins API where its site's token is given.
        self.sites = SitesApi(self.transport, api_key) if api_key else None
        self.plugins = PluginsApi(self.transport, plugin_token) if plugin_token else None
        self._warn_about_transport()

    def _warn_about_transport(self):
        secret = 'API key' if self.sites else 'plugin token'
        if not self.params['validate_certs']:
            self.module.warn('validate_certs is false: the TLS certificate of %s is not checked, so the %s '
                             'could be sent to an impostor.' % (self.transport.base_url, secret))
        url = urlparse(self.transport.base_url)
        if url.scheme == 'http' and not _is_loopback(url.hostname):
            self.module.warn('api_url uses plain http:// to %s: the %s crosses the network unencrypted.'
                             % (url.hostname, secret))

    def sites_api(self, what):
        """The Sites API surface, or a clear failure naming what needs it when only a plugin token was given."""
        if self.sites is None:
            raise ResourceError(
                '%s needs the Sites API, which only an API key reaches (api_key, or PLAUSIBLE_API_KEY); plugin_token '
                'reaches the Plugins API, which cannot do this. A self-hosted Community Edition server has no Sites '
                'API at all: do this in its dashboard.' % what)
        return self.sites

    def api_for(self, domain):
        """The surface that manages ``domain``'s goals, links, properties and tracker: its token's, else the key's.

        Sends nothing: the first request checks that the token belongs to ``domain`` (Plugins API), or that
        ``domain`` is not a renamed site's old name (Sites API).
        """
        if self.plugins is not None:
            self.plugins.expect_site(domain)
            return self.plugins
        return self.sites_for(domain)

    def sites_for(self, domain, what=None):
        """The Sites API for ``domain``'s content; its first request checks that ``domain`` was not renamed."""
        sites = self.sites_api(what) if what else self.sites
        if sites is not None:
            sites.expect_site(domain)
        return sites

    def run(self, work):
        """Call ``work()`` and exit with its result; every known failure becomes one readable ``msg``.

        A failure after a write tells the truth: ``changed`` is true, the message claims no "nothing was changed",
        and what ``work`` finished so far (``self.partial``) is returned beside the error.
        """
        try:
            result = work()
        except InputError as exc:
            self.fail('Invalid input, nothing was sent: %s' % exc if not self.transport.writes else 'Invalid input: %s' % exc)
        except (PlausibleError, ResourceError) as exc:
            self.fail(exc, **_error_details(exc))
        except Exception as exc:  # an answer of an unexpected shape: say so, and whether something was written before
            self.fail('Unexpected failure (%s: %s); please report it with the module\'s arguments.'
                      % (type(exc).__name__, exc), exception=self.transport.redact(traceback.format_exc()))
        self.module.exit_json(**result)

    def fail(self, msg, **details):
        msg = self.transport.redact(msg)
        wrote = self.transport.writes > 0
        if wrote:
            msg = NOTHING_CHANGED.sub('', msg).rstrip().rstrip('.') + (
                '. Changes were made before this failure (changed is true); a re-run continues from there.')
        self.module.fail_json(msg=msg, changed=wrote, **dict(self.partial, **details))

    def result(self, name, outcome, diff_view=None, **extra):
        """The module result for one object: ``changed``, the object under ``name``, and ``diff`` in diff mode, each
        side shaped by ``diff_view`` where the object holds what a diff must not show."""
        result = dict(changed=outcome.changed, **extra)
        result[name] = outcome.after if outcome.after is not None else (outcome.before or {})
        if self.module._diff:
            view = diff_view or (lambda item: item or {})
            result['diff'] = dict(before=view(outcome.before), after=view(outcome.after))
        return result


def _is_loopback(host):
    if host == 'localhost':
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _error_details(exc):
    if isinstance(exc, PlausibleError):
        return dict(status=exc.status, api_error=exc.error)
    return {}
