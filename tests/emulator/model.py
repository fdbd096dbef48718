# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The state both emulated APIs share: users, teams, sites with their goals, shared links, custom properties,
tracker configuration and plugin tokens; the configuration; the rate counters; the goal changeset."""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
import urllib.parse
import uuid
import zoneinfo
from dataclasses import dataclass, field

MAIN_USER_EMAIL = 'user@example.com'
DEFAULT_TEAM_NAME = 'My personal sites'
FEATURES = ('sites_api', 'stats_api', 'shared_links', 'custom_props', 'revenue_goals')
TEAM_ROLES = ('owner', 'admin', 'editor', 'viewer', 'billing')
READ_ROLES = ('owner', 'admin', 'editor', 'viewer')
WRITE_ROLES = ('owner', 'admin', 'editor')
GUEST_MANAGER_ROLES = ('owner', 'admin')
OWNER_ROLES = ('owner',)
RENAME_GRACE_SECONDS = 72 * 3600
MAX_CUSTOM_PROPS = 300
MAX_PROP_KEY_LENGTH = 300
MAX_PROP_VALUE_LENGTH = 2000
MAX_GOAL_CUSTOM_PROPS = 3
MAX_EVENT_NAME_LENGTH = 120
MIN_FUNNEL_STEPS = 2
VARCHAR_LENGTH = 255
NANOID_ALPHABET = '_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'

RESERVED_DOMAIN_CHARS = frozenset(":?#[]@!$&'()*+,;=")
OTHER_DOMAIN_CHARS = frozenset('-.\\/_:')
INTERNAL_PROPS = ('url', 'path', 'search_query')
RESERVED_EVENT_NAMES = ('engagement', '__journey_end__')  # CE reserves only the first
RESERVED_SHARED_LINK_NAMES = ('WordPress - Shared Dashboard',)
INSTALLATION_TYPES = ('manual', 'wordpress', 'gtm', 'npm')
TRACKER_BOOLEANS = ('track_404_pages', 'hash_based_routing', 'outbound_links', 'file_downloads',
                    'revenue_tracking', 'tagged_events', 'form_submissions', 'pageview_props')
# Options whose switch creates or deletes a goal with this event name.
TRACKER_GOALS = {'outbound_links': 'Outbound Link: Click', 'file_downloads': 'File Download',
                 'form_submissions': 'Form: Submission', 'track_404_pages': '404'}
CURRENCIES = frozenset('''
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF
    CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD
    HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL
    LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR
    PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND
    TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL
'''.split())
INTEGER_RE = re.compile(r'[+-]?[0-9]+')
UUID_RE = re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')
MSG_DOMAIN_FORMAT = 'only letters, numbers, slashes, underscores and period allowed'
MSG_DOMAIN_RESERVED = "must not contain URI reserved characters :?#[]@!$&'()*+,;="
MSG_GOAL_LIMIT = 'Maximum number of goals reached'


def truthy(value):
    """Elixir truthiness: only nil and false are falsy."""
    return value is not None and value is not False


def nanoid(size=21):
    return ''.join(secrets.choice(NANOID_ALPHABET) for index in range(size))


@functools.cache
def timezones():
    return frozenset(zoneinfo.available_timezones()) | {'Etc/UTC', 'UTC', 'GMT', 'Z'}


def normalize_domain(domain):
    """Site.clean_domain: lower-case, trim, strip schemes, slashes and ``www.`` (every leading repetition)."""
    domain = domain.lower().strip()
    for prefix in ('http://', 'https://'):
        while domain.startswith(prefix):
            domain = domain[len(prefix):]
    domain = domain.strip('/')
    while domain.startswith('www.'):
        domain = domain[4:]
    return domain


def domain_format_errors(domain):
    """Format and reserved-character errors, in validation order (the last one is reported)."""
    errors = []
    if not all(char.isalpha() or char.isdecimal() or char in OTHER_DOMAIN_CHARS for char in domain):
        errors.append('domain: ' + MSG_DOMAIN_FORMAT)
    if any(char in RESERVED_DOMAIN_CHARS for char in domain):
        errors.append('domain: ' + MSG_DOMAIN_RESERVED)
    return errors


def cast_boolean(value):
    """Ecto's boolean cast; raises ValueError for anything else."""
    if value is True or value in ('true', '1'):
        return True
    if value is False or value in ('false', '0'):
        return False
    raise ValueError(value)


def shared_link_url(base_url, site, link):
    """The link's address: the current domain, www-form-encoded, and its slug."""
    return f'{base_url}/share/{urllib.parse.quote_plus(site.domain, safe="")}?auth={link.slug}'


def hash_password(password):
    """A stand-in for the server's Bcrypt hash: the emulator never keeps a link password in clear."""
    return hashlib.sha256(b'shared-link:' + password.encode()).digest()


def default_tracker_config():
    return dict({'id': 'pa-' + nanoid(), 'installation_type': None}, **dict.fromkeys(TRACKER_BOOLEANS, False))


# ---------------------------------------------------------------------------------------------------------------
# State model
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class User:
    email: str
    super_admin: bool = False


@dataclass(eq=False)
class Team:
    id: int
    uuid: str
    name: str
    setup: bool
    features: set
    locked: bool = False
    hourly_limit: int | None = None
    site_limit: int | None = None
    members: dict = field(default_factory=dict)  # e-mail -> role; "guest" for guest members
    features_off: set = field(default_factory=set)  # capability names the plan lacks (POST /_emulator/plan)

    @property
    def display_name(self):
        return self.name if self.setup else DEFAULT_TEAM_NAME


@dataclass(eq=False)
class Goal:
    id: int
    event_name: str | None
    page_path: str | None
    display_name: str
    custom_props: dict
    currency: str | None = None
    scroll_threshold: int = -1

    @property
    def goal_type(self):
        if self.event_name is not None:
            return 'event'
        return 'scroll' if self.scroll_threshold > -1 else 'page'


@dataclass
class SharedLink:
    id: int
    name: str
    slug: str
    password_hash: bytes | None = None  # set only at creation (through the Plugins API)

    @property
    def password_protected(self):
        return self.password_hash is not None


@dataclass(eq=False)
class Funnel:
    """A funnel of the hosted build: a name and 2..8 goals as steps."""
    id: int
    name: str
    steps: list


@dataclass
class Guest:
    """An accepted guest membership or a pending guest invitation of one site."""
    id: int
    email: str
    role: str
    status: str  # "accepted" or "invited"

    @property
    def sort_index(self):
        # Accepted guests newest first, then invitations oldest first.
        return -self.id if self.status == 'accepted' else self.id


@dataclass(eq=False)
class Site:
    id: int
    domain: str
    timezone: str
    team: Team
    consolidated: bool = False
    domain_changed_from: str | None = None
    domain_changed_at: float | None = None
    allowed_props: list | None = None
    tracker: dict | None = None
    goals: list = field(default_factory=list)
    shared_links: list = field(default_factory=list)
    guests: list = field(default_factory=list)
    funnels: list = field(default_factory=list)


@dataclass(frozen=True)
class ApiKey:
    token: str
    label: str
    user_email: str
    scopes: tuple
    team_uuid: str | None = None


@dataclass(eq=False)
class PluginToken:
    """A Plugins API token bound to one site (table plugins_api_tokens)."""
    id: str
    label: str  # the name the request log and the control API use, never the token
    site: Site
    token_hash: bytes
    hint: str
    description: str
    inserted_at: float
    last_used_at: float | None = None


class State:
    """Everything the server stores. Callers hold the emulator lock."""

    def __init__(self, default_team_uuid):
        self._ids = {}
        self.users = {}
        self.teams = []
        self.sites = []
        self.keys = {}
        self.plugin_tokens = []
        self.add_user(MAIN_USER_EMAIL)
        self.add_team(MAIN_USER_EMAIL, team_uuid=default_team_uuid)

    def next_id(self, kind):
        self._ids[kind] = self._ids.get(kind, 0) + 1
        return self._ids[kind]

    def add_user(self, email, super_admin=False):
        user = self.users.setdefault(email, User(email))
        user.super_admin = user.super_admin or super_admin
        return user

    def add_team(self, owner, team_uuid=None, name=DEFAULT_TEAM_NAME, setup=False, features=FEATURES):
        team = Team(self.next_id('team'), team_uuid or str(uuid.uuid4()), name, setup, set(features), members={owner: 'owner'})
        self.teams.append(team)
        return team

    def team_by_uuid(self, value):
        """Teams.get: a non-UUID or unknown value is no team."""
        if not isinstance(value, str) or not UUID_RE.fullmatch(value.lower()):
            return None
        return next((team for team in self.teams if team.uuid == value.lower()), None)

    def find_site(self, site_id):
        """The site named by ``site_id``: exact domain, or the old domain during the rename grace."""
        if not isinstance(site_id, str):
            return None
        return next((site for site in self.sites if site_id in (site.domain, site.domain_changed_from)), None)

    def expire_renames(self, now):
        for site in self.sites:
            if site.domain_changed_at is not None and now - site.domain_changed_at >= RENAME_GRACE_SECONDS:
                site.domain_changed_from = site.domain_changed_at = None

    def domain_taken(self, domain, ignore=None, owner=None):
        """Whether another site uses ``domain`` as its domain or pending old domain.

        On create, the pending old domain of a site the creating user owns does not count: it is cleared instead.
        """
        return any(site is not ignore and (site.domain == domain or (site.domain_changed_from == domain
                                                                     and not (owner and self.site_role(owner, site) == 'owner')))
                   for site in self.sites)

    @staticmethod
    def site_role(user, site):
        """Effective role: the guest role if there is one, otherwise the (non-guest) team role."""
        guest = next((g for g in site.guests if g.status == 'accepted' and g.email == user.email), None)
        if guest:
            return guest.role
        role = site.team.members.get(user.email)
        return None if role == 'guest' else role

    @staticmethod
    def is_team_member(user, team):
        return team.members.get(user.email) not in (None, 'guest')

    def remove_guest(self, site, guest):
        site.guests.remove(guest)
        team = site.team
        if guest.status == 'accepted' and team.members.get(guest.email) == 'guest':
            still_guest = any(g.email == guest.email and g.status == 'accepted'
                              for other in self.sites if other.team is team for g in other.guests)
            if not still_guest:
                del team.members[guest.email]

    def remove_site(self, site):
        for guest in list(site.guests):
            self.remove_guest(site, guest)
        self.sites.remove(site)
        # The token table deletes a site's tokens with the site (on_delete: :delete_all).
        self.plugin_tokens = [token for token in self.plugin_tokens if token.site is not site]

    def add_goal(self, site, event_name=None, page_path=None, display_name=None, custom_props=None, currency=None,
                 scroll_threshold=-1):
        if display_name is None:
            display_name = event_name if event_name is not None else 'Visit ' + page_path
        goal = Goal(self.next_id('goal'), event_name, page_path, display_name, dict(custom_props or {}), currency,
                    scroll_threshold)
        site.goals.append(goal)
        return goal

    def get_or_insert_goal(self, site, changes, goal_limit):
        """The insert of Goals.create with ``on_conflict: :nothing``, then ``Repo.get_by!`` when it was skipped.

        ``changes`` are the values of a valid changeset. Raises GoalLookupError or GoalLimitReached.
        """
        event_name, page_path, props = changes['event_name'], changes['page_path'], changes['custom_props']
        conflict = any(
            goal.display_name == changes['display_name']
            or (event_name is not None and goal.event_name == event_name and goal.custom_props == props)
            or (page_path is not None and goal.page_path == page_path and goal.custom_props == props
                and goal.scroll_threshold == changes['scroll_threshold'])
            for goal in site.goals)
        if conflict:
            # The insert was skipped: Repo.get_by! on the event name or the page path only.
            found = [goal for goal in site.goals
                     if (goal.event_name == event_name if event_name is not None else goal.page_path == page_path)]
            if len(found) != 1:
                raise GoalLookupError(len(found))
            return found[0]
        if len(site.goals) >= goal_limit:
            raise GoalLimitReached()
        return self.add_goal(site, **changes)

    def apply_tracker_config(self, site, changes, goal_limit):
        """Merge configuration changes; switching a goal option on creates its goal, switching it off deletes it."""
        before = site.tracker or dict.fromkeys(TRACKER_BOOLEANS, False)
        site.tracker = dict(site.tracker or default_tracker_config(), **changes)
        for option, event_name in TRACKER_GOALS.items():
            if site.tracker[option] and not before[option]:
                # Goals.create with upsert: nothing happens when the goal exists or the goal limit is reached.
                exists = any(event_name in (goal.event_name, goal.display_name) for goal in site.goals)
                if not exists and len(site.goals) < goal_limit:
                    self.add_goal(site, event_name=event_name)
            elif before[option] and not site.tracker[option]:
                self.remove_goals(site, {goal.id for goal in site.goals if goal.event_name == event_name})

    @staticmethod
    def remove_goals(site, ids):
        """Delete the site's goals with these ids (others are skipped); funnels lose those steps, and go below two."""
        site.goals = [goal for goal in site.goals if goal.id not in ids]
        for funnel in list(site.funnels):
            funnel.steps = [goal for goal in funnel.steps if goal.id not in ids]
            if len(funnel.steps) < MIN_FUNNEL_STEPS:
                site.funnels.remove(funnel)

    def add_funnel(self, site, name, steps):
        funnel = Funnel(self.next_id('funnel'), name, list(steps))
        site.funnels.append(funnel)
        return funnel

    # -- plugin tokens ---------------------------------------------------------------------------------------

    def add_plugin_token(self, site, raw, description, now):
        """Store a token as the server does: its SHA-256 and its last 4 characters, never the raw value."""
        token = PluginToken(str(uuid.uuid4()), f'plugin-token{self.next_id("plugin_token")}', site,
                            hashlib.sha256(raw.encode()).digest(), raw[-4:], description, now)
        self.plugin_tokens.append(token)
        return token

    def find_plugin_token(self, raw):
        """The token whose hash matches ``raw`` (bytes), or None."""
        digest = hashlib.sha256(raw).digest()
        return next((token for token in self.plugin_tokens if secrets.compare_digest(token.token_hash, digest)), None)


class GoalLookupError(Exception):
    """``Repo.get_by!`` after a skipped insert found no goal (Ecto.NoResultsError) or several (MultipleResultsError)."""

    def __init__(self, count):
        super().__init__(count)
        self.count = count


class GoalLimitReached(Exception):
    """The site already has the maximum number of goals and this one is new."""


# ---------------------------------------------------------------------------------------------------------------
# Configuration and rate limiting
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class Config:
    edition: str = 'hosted'
    has_user: bool = True
    hourly_limit: int = 600
    burst_limit: int = 60
    burst_period: float = 10
    hour_period: float = 3600
    goal_limit: int = 1000
    site_limit: int | None = None

    def update(self, values):
        for name, value in values.items():
            if name not in self.__dataclass_fields__:
                raise ValueError(f'unknown config key {name!r}')
            if name == 'edition' and value not in ('hosted', 'ce'):
                raise ValueError('edition must be "hosted" or "ce"')
            if name == 'has_user' and not isinstance(value, bool):
                raise ValueError('has_user must be a boolean')
            is_number = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
            if name not in ('edition', 'has_user') and not is_number and not (name == 'site_limit' and value is None):
                raise ValueError(f'{name} must be a non-negative number')
            setattr(self, name, value)


class RateLimiter:
    """Fixed windows aligned to epoch multiples of the period: bucket = floor(now_ms / period_ms)."""

    def __init__(self):
        self._windows = {}

    def hit(self, counter, period, now):
        """Count one request in the current window and return the count."""
        bucket = int(now * 1000) // max(1, round(period * 1000))
        current_bucket, count = self._windows.get(counter, (bucket, 0))
        count = count + 1 if current_bucket == bucket else 1
        self._windows[counter] = (bucket, count)
        return count


def goal_changeset(params, reserved_event_names=RESERVED_EVENT_NAMES):
    """Goal.changeset: the cast values and every error, in the order Ecto adds them (the newest is last)."""
    errors = []

    def cast_string(name):
        value = params.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None  # Ecto's empty values
        if not isinstance(value, str):
            errors.append(f'{name}: is invalid')
            return None
        return value

    event_name = cast_string('event_name')
    page_path = cast_string('page_path')
    scroll_threshold = params.get('scroll_threshold', -1)
    if isinstance(scroll_threshold, str) and INTEGER_RE.fullmatch(scroll_threshold):
        scroll_threshold = int(scroll_threshold)
    elif scroll_threshold is None:
        scroll_threshold = -1
    elif not isinstance(scroll_threshold, int) or isinstance(scroll_threshold, bool):
        errors.append('scroll_threshold: is invalid')
        scroll_threshold = -1
    display_name = cast_string('display_name')
    custom_props = params.get('custom_props') or {}
    if not isinstance(custom_props, dict):
        errors.append('custom_props: is invalid')
        custom_props = {}
    currency = params.get('currency')
    if currency is not None and not (isinstance(currency, str) and currency in CURRENCIES):
        errors.append('currency: is invalid')
        currency = None

    if page_path is not None:
        page_path = page_path.strip()
        page_path = page_path if page_path.startswith('/') else '/' + page_path
    if event_name in reserved_event_names:
        event_error = f"The event name '{event_name}' is reserved and cannot be used as a goal"
    elif event_name is not None and re.match(r'.+', event_name):
        event_error = None
    else:
        event_error = 'this field is required and cannot be blank'
    if page_path is None and event_error:
        errors.append('event_name: ' + event_error)
        errors.append('page_path: this field is required and must start with a /')
    elif page_path is None:
        event_name = event_name.strip()
    if scroll_threshold > -1 and page_path is None:
        errors.append('scroll_threshold: page_path field missing for page scroll goal')
    if display_name is None and page_path is not None:
        display_name = 'Visit ' + page_path
    elif display_name is None and event_name is not None:
        display_name = event_name
    display_name = display_name.strip() if display_name is not None else None
    if not display_name and not any(error.startswith('display_name:') for error in errors):
        errors.append("display_name: can't be blank")
    if params.get('custom_props'):
        props_error = goal_custom_props_error(custom_props)
        if props_error:
            errors.append('custom_props: ' + props_error)
    if event_name is not None and len(event_name) > MAX_EVENT_NAME_LENGTH:
        errors.append(f'event_name: should be at most {MAX_EVENT_NAME_LENGTH} character(s)')
    if not -1 <= scroll_threshold <= 100:
        errors.append('scroll_threshold: Should be -1 (missing) or in range [0, 100]')
    if page_path is not None:
        currency = None  # currency is dropped for page goals
    return {'event_name': event_name, 'page_path': page_path, 'display_name': display_name, 'custom_props': custom_props,
            'currency': currency, 'scroll_threshold': scroll_threshold}, errors


def goal_custom_props_error(custom_props):
    if len(custom_props) > MAX_GOAL_CUSTOM_PROPS:
        return f'use at most {MAX_GOAL_CUSTOM_PROPS} properties per goal'
    if not all(isinstance(key, str) and isinstance(value, str) for key, value in custom_props.items()):
        return 'must be a map with string keys and string values'
    if any(not 1 <= len(key) <= MAX_PROP_KEY_LENGTH for key in custom_props):
        return f'key length is 1..{MAX_PROP_KEY_LENGTH} characters'
    if any(not 1 <= len(value) <= MAX_PROP_VALUE_LENGTH for value in custom_props.values()):
        return f'value length is 1..{MAX_PROP_VALUE_LENGTH} characters'
    return None
