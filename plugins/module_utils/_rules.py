# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""What the server accepts, judged locally so that bad input fails before any request is sent.

Each rule is the server's own (plausible-sites-api.md §8); each failure names the option and the rule.
"""

from __future__ import annotations

import re

try:
    import zoneinfo
except ImportError:  # Python < 3.9 on the managed node: leave time zones to the server
    zoneinfo = None

RESERVED_DOMAIN_CHARACTERS = ":?#[]@!$&'()*+,;="
DOMAIN_MAX_LENGTH = 255
EVENT_NAME_MAX_LENGTH = 120
RESERVED_EVENT_NAMES = ('engagement', '__journey_end__')
RESERVED_EVENT_NAMES_CE = ('engagement',)  # Community Edition does not reserve __journey_end__
MAX_CUSTOM_PROPS = 3
CUSTOM_PROP_KEY_MAX = 300
CUSTOM_PROP_VALUE_MAX = 2000
MAX_SITE_CUSTOM_PROPERTIES = 300
SHARED_LINK_NAME_MAX = 255
RESERVED_SHARED_LINK_NAMES = ('WordPress - Shared Dashboard',)
EMAIL_MAX_LENGTH = 254
GUEST_ROLES = ('viewer', 'editor')
TRACKER_FLAGS = ('track_404_pages', 'hash_based_routing', 'outbound_links', 'file_downloads', 'revenue_tracking',
                 'tagged_events', 'form_submissions', 'pageview_props')
INSTALLATION_TYPES = ('manual', 'wordpress', 'gtm', 'npm')
TEAM_ID = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')
# Timex also accepts these besides IANA names (§8.2).
TIMEZONE_ALIASES = re.compile(r'^(UTC|GMT|Z|[A-IK-Z]|[+-][0-9]{2}:[0-9]{2}|GMT[+-][0-9]{1,2})$')  # ASCII digits only
# ISO 4217 codes in use; the server refuses others ("currency: is invalid").
CURRENCIES = frozenset('''
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF
    CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD
    HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL
    LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR
    PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND
    TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL
'''.split())


class InputError(ValueError):
    """Input the server would refuse: ``str()`` names the option and the rule."""


def normalize_domain(value, option='domain'):
    """Normalise a domain exactly as the server does (§8.1) and check what the server checks."""
    domain = (value or '').lower().strip()
    for prefix in ('http://', 'https://'):
        while domain.startswith(prefix):
            domain = domain[len(prefix):]
    domain = domain.strip('/')
    while domain.startswith('www.'):
        domain = domain[len('www.'):]
    if not domain:
        raise InputError("%s: can't be blank (%r normalises to an empty domain)" % (option, value))
    reserved = sorted(set(c for c in domain if c in RESERVED_DOMAIN_CHARACTERS))
    if reserved:
        raise InputError('%s: must not contain URI reserved characters %s (found %s in %r)'
                         % (option, RESERVED_DOMAIN_CHARACTERS, ''.join(reserved), value))
    # The server's \\p{L} and \\d (Unicode): letters of any script and decimal digits, not ² or ① (isdigit() takes those).
    if not all(c.isalpha() or c.isdecimal() or c in '-.\\/_' for c in domain):
        raise InputError('%s: only letters, numbers, slashes, underscores and period allowed (got %r)' % (option, value))
    if len(domain) > DOMAIN_MAX_LENGTH:
        raise InputError('%s: must be at most %d characters (got %d)' % (option, DOMAIN_MAX_LENGTH, len(domain)))
    return domain


def check_timezone(value):
    """Accept IANA zone names and the aliases the server accepts; without zone data, leave it to the server."""
    if value is None:
        return None
    if value == '' or (zoneinfo is not None and zoneinfo.available_timezones()
                       and value not in zoneinfo.available_timezones() and not TIMEZONE_ALIASES.match(value)):
        raise InputError('timezone: %r is not a time zone the server accepts (an IANA name such as Europe/Berlin or Etc/UTC)'
                         % value)
    return value


def normalize_event_name(value, community_edition=False):
    name = (value or '').strip()
    if not name:
        raise InputError("event_name: can't be blank")
    if len(name) > EVENT_NAME_MAX_LENGTH:
        raise InputError('event_name: must be at most %d characters (got %d)' % (EVENT_NAME_MAX_LENGTH, len(name)))
    if name in (RESERVED_EVENT_NAMES_CE if community_edition else RESERVED_EVENT_NAMES):
        raise InputError("event_name: the event name %r is reserved and cannot be used as a goal" % name)
    return name


def normalize_page_path(value):
    """The server trims the path and prepends ``/``: ``signup`` and ``/signup`` are one goal."""
    path = (value or '').strip()
    if not path:
        raise InputError("page_path: can't be blank")
    return path if path.startswith('/') else '/' + path


def check_custom_props(props):
    if props is None:
        return None
    if len(props) > MAX_CUSTOM_PROPS:
        raise InputError('custom_props: use at most %d properties per goal (got %d)' % (MAX_CUSTOM_PROPS, len(props)))
    checked = {}
    for key, value in props.items():
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise InputError('custom_props: values must be strings (%r is %s)' % (key, type(value).__name__))
        key, value = '%s' % key, '%s' % value
        if not 1 <= len(key) <= CUSTOM_PROP_KEY_MAX:
            raise InputError('custom_props: key length is 1..%d characters (%r)' % (CUSTOM_PROP_KEY_MAX, key[:40]))
        if not 1 <= len(value) <= CUSTOM_PROP_VALUE_MAX:
            raise InputError('custom_props: value length is 1..%d characters (key %r)' % (CUSTOM_PROP_VALUE_MAX, key))
        checked[key] = value
    return checked


def check_currency(value):
    if value is not None and value not in CURRENCIES:
        raise InputError('currency: must be an ISO 4217 code in capitals, such as USD or EUR (got %r)' % value)
    return value


def check_shared_link_name(value, plugins_api=False):
    """The Sites API refuses the WordPress plugin's link name; the Plugins API creates it (that is where it comes from)."""
    if value is None or not value.strip():
        raise InputError("name: can't be blank")
    if value in RESERVED_SHARED_LINK_NAMES and not plugins_api:
        raise InputError('name: %r is reserved by Plausible in the Sites API; choose another one (only the Plugins API, '
                         'with plugin_token, creates it)' % value)
    if len(value) > SHARED_LINK_NAME_MAX:
        raise InputError('name: must be at most %d characters (got %d)' % (SHARED_LINK_NAME_MAX, len(value)))
    return value


def normalize_property(value, option='property'):
    """A custom property name as the server stores it: trimmed, 1..300 characters (§6.11, §8.5); ``/`` is fine."""
    name = value.strip() if isinstance(value, str) else ''
    if not name:
        raise InputError("%s: can't be blank (the server trims the name; got %r)" % (option, value))
    if len(name) > CUSTOM_PROP_KEY_MAX:
        raise InputError('%s: must be at most %d characters after trimming (got %d)' % (option, CUSTOM_PROP_KEY_MAX, len(name)))
    return name


def check_email(value, option='email'):
    """A deliberately simple rule, not RFC 5322: one ``@``, a non-empty local part, a domain with a dot inside it,
    no whitespace, at most 254 characters. Compared exactly afterwards, as the server does."""
    email = value if isinstance(value, str) else ''
    local, _at, domain = email.partition('@')
    problem = None
    if not email or any(c.isspace() for c in email):
        problem = 'must be non-empty and contain no whitespace'
    elif len(email) > EMAIL_MAX_LENGTH:
        problem = 'must be at most %d characters (got %d)' % (EMAIL_MAX_LENGTH, len(email))
    elif email.count('@') != 1 or not local or '.' not in domain.strip('.'):
        problem = 'must be one address like name@example.com (one @, a name before it, a domain with a dot after it)'
    if problem:
        raise InputError('%s: %s (got %r)' % (option, problem, value))
    return email


def check_guest_role(value, option='role'):
    if value not in GUEST_ROLES:
        raise InputError('%s: must be one of %s (got %r)' % (option, ', '.join(GUEST_ROLES), value))
    return value


def check_tracker_script_configuration(config):
    """Keep only the keys the user gave; their types are checked by the argument spec."""
    if config is None:
        return None
    return dict((key, value) for key, value in config.items() if value is not None)


def check_team_id(value, hint='GET /api/v1/sites/teams lists them'):
    """A team's id is a UUID; the server takes anything else as no team at all (no filter, or another team for a new
    site, for good), so it is refused here."""
    if value is None:
        return None
    team_id = value.strip().lower()
    if not TEAM_ID.match(team_id):
        raise InputError("team_id: must be a team's id, a UUID such as 4f7c5d8e-0b1a-4c2d-9e3f-a1b2c3d4e5f6 (%s); got %r, "
                         "which Plausible would take as no team" % (hint, value))
    return team_id
