# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bad-input table: each row runs a module's main() and must fail with a message that names the option and the rule.

A row judged 'local' must send no request at all; a row judged 'server' needs the server's state (the site
existing.example in Europe/Berlin with the event goal Signup) and may only read it. The role's argument spec has its
own table (tests/unit/roles); the rows that prove the wiring through ansible-playbook are in tests/integration/targets/bad_input.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from ansible_collections.plausible.analytics.plugins.modules import plausible_goal, plausible_shared_link, plausible_site, plausible_sites

from ..fakes import FakeResponse, run_module

MAINS = dict(plausible_site=plausible_site.main, plausible_goal=plausible_goal.main, plausible_shared_link=plausible_shared_link.main,
             plausible_sites=plausible_sites.main)
THREE_PROPS_TOO_MANY = dict(a='1', b='2', c='3', d='4')
UNSUPPORTED = 'Unsupported parameters for (plausible.analytics.plausible_site) module: '
RESERVED_LINK = 'WordPress - Shared Dashboard'

LOCAL = [
    ('plausible_site', dict(domain='exa&mple.com'), 'domain: must not contain URI reserved characters'),
    ('plausible_site', dict(domain='site-port.example:8080'), 'domain: must not contain URI reserved characters'),
    ('plausible_site', dict(domain='my site.example'), 'domain: only letters, numbers, slashes, underscores and period allowed'),
    ('plausible_site', dict(domain='site².example'), 'domain: only letters, numbers, slashes, underscores and period allowed'),
    ('plausible_site', dict(domain='site①.example'), 'domain: only letters, numbers, slashes, underscores and period allowed'),
    ('plausible_site', dict(domain=''), "domain: can't be blank"),
    ('plausible_site', dict(domain='https://www./'), "domain: can't be blank"),
    ('plausible_site', dict(domain='a' * 252 + '.com'), 'domain: must be at most 255 characters'),
    ('plausible_site', dict(domain='tz-unknown.example', timezone='Mars/Olympus_Mons'), "timezone: 'Mars/Olympus_Mons' is not a time zone"),
    ('plausible_site', dict(domain='tz-empty.example', timezone=''), "timezone: '' is not a time zone"),
    ('plausible_site', dict(domain='renamed.example', previous_domain='old?.example'), 'previous_domain: must not contain URI reserved characters'),
    ('plausible_site', dict(domain='install.example', tracker_script_configuration=dict(installation_type='ftp')),
     'value of installation_type must be one of: manual, wordpress, gtm, npm, got: ftp'),
    ('plausible_site', dict(domain='flag.example', tracker_script_configuration=dict(outbound_links='maybe')), "'outbound_links' is of type str"),
    ('plausible_site', dict(domain='flag-typo.example', tracker_script_configuration=dict(outbound_link=True)),
     UNSUPPORTED + 'tracker_script_configuration.outbound_link'),
    ('plausible_site', dict(domain='typo.example', time_zone='Europe/Berlin'), UNSUPPORTED + 'time_zone'),
    ('plausible_site', dict(domain='state.example', state='gone'), 'value of state must be one of: present, absent, got: gone'),
    ('plausible_site', dict(domain='timeout.example', timeout='soon'), "'timeout' is of type str and we were unable to convert to int"),
    ('plausible_site', dict(domain='retries.example', retries='many'), "'retries' is of type str and we were unable to convert to int"),
    ('plausible_site', dict(timezone='Europe/Berlin'), 'missing required arguments: domain'),
    ('plausible_goal', dict(domain='goal-a.example', goal_type='event'), 'goal_type is event but all of the following are missing: event_name'),
    ('plausible_goal', dict(domain='goal-b.example', goal_type='page'), 'goal_type is page but all of the following are missing: page_path'),
    ('plausible_goal', dict(domain='goal-c.example', goal_type='event', event_name='Signup', page_path='/signup'),
     'parameters are mutually exclusive: event_name|page_path'),
    ('plausible_goal', dict(domain='goal-d.example', goal_type='scroll', page_path='/long'), 'value of goal_type must be one of: event, page, got: scroll'),
    ('plausible_goal', dict(domain='goal-e.example', event_name='Signup'), 'state is present but all of the following are missing: goal_type'),
    ('plausible_goal', dict(domain='goal-f.example', goal_type='event', event_name='engagement'), "event_name: the event name 'engagement' is reserved"),
    ('plausible_goal', dict(domain='goal-g.example', goal_type='event', event_name='__journey_end__'),
     "event_name: the event name '__journey_end__' is reserved"),
    ('plausible_goal', dict(domain='goal-h.example', goal_type='event', event_name='e' * 121), 'event_name: must be at most 120 characters (got 121)'),
    ('plausible_goal', dict(domain='goal-i.example', goal_type='event', event_name='   '), "event_name: can't be blank"),
    ('plausible_goal', dict(domain='goal-j.example', goal_type='page', page_path='  '), "page_path: can't be blank"),
    ('plausible_goal', dict(domain='goal-k.example', goal_type='event', event_name='Buy', custom_props=THREE_PROPS_TOO_MANY),
     'custom_props: use at most 3 properties per goal (got 4)'),
    ('plausible_goal', dict(domain='goal-l.example', goal_type='event', event_name='Buy', custom_props=dict(plan='')),
     'custom_props: value length is 1..2000 characters'),
    ('plausible_goal', dict(domain='goal-m.example', goal_type='event', event_name='Buy', custom_props=dict(plan=['a', 'b'])),
     'custom_props: values must be strings'),
    ('plausible_goal', dict(domain='goal-n.example', goal_type='event', event_name='Buy', custom_props={'k' * 301: 'v'}),
     'custom_props: key length is 1..300 characters'),
    ('plausible_goal', dict(domain='goal-o.example', goal_type='event', event_name='Buy', custom_props='nope'),
     "'custom_props' is of type str and we were unable to convert to dict"),
    ('plausible_goal', dict(domain='goal-p.example', goal_type='event', event_name='Buy', currency='usd'), 'currency: must be an ISO 4217 code'),
    ('plausible_goal', dict(domain='goal-q.example', goal_type='event', event_name='Buy', currency='EURO'), 'currency: must be an ISO 4217 code'),
    ('plausible_goal', dict(domain='goal-r.example', goal_type='page', page_path='/buy', currency='EUR'), 'currency: only event goals can be revenue goals'),
    ('plausible_goal', dict(domain='shop.example', goal_type='event', event_name='Buy', currency='XYZ'), 'currency: must be an ISO 4217 code'),
    ('plausible_goal', dict(domain='goal-s.example', state='absent', goal_id='abc'), "'goal_id' is of type str and we were unable to convert to int"),
    ('plausible_goal', dict(domain='goal-t.example', state='absent'), 'state is absent but any of the following are missing: goal_type, goal_id'),
    ('plausible_goal', dict(domain='goal-u.example', goal_type='event', event_name='Buy', recreate='sometimes'), "'recreate' is of type str"),
    ('plausible_goal', dict(domain='goal@v.example', goal_type='event', event_name='Buy'), 'domain: must not contain URI reserved characters'),
    ('plausible_shared_link', dict(domain='link-a.example', name=RESERVED_LINK), f"name: '{RESERVED_LINK}' is reserved"),
    ('plausible_shared_link', dict(domain='link-b.example', name=''), "name: can't be blank"),
    ('plausible_shared_link', dict(domain='link-c.example', name='   '), "name: can't be blank"),
    ('plausible_shared_link', dict(domain='link-d.example', name='n' * 256), 'name: must be at most 255 characters (got 256)'),
    ('plausible_shared_link', dict(domain='link-e.example', name='Board', state='absent'), 'state: absent is not possible'),
    ('plausible_shared_link', dict(domain='link-f.example'), 'missing required arguments: name'),
    ('plausible_shared_link', dict(domain='link g.example', name='Board'), 'domain: only letters, numbers, slashes, underscores and period allowed'),
    ('plausible_sites', dict(sites=[dict(timezone='Europe/Berlin')]), 'missing required arguments: domain found in sites'),
    ('plausible_sites', dict(sites=[dict(domain='bulk-b.example', goal=[])]), 'sites.goal'),
    ('plausible_sites', dict(sites=[dict(domain='Bulk-C.example'), dict(domain='https://www.bulk-c.example/')]),
     'sites[1]: the domain bulk-c.example appears more than once'),
    ('plausible_sites', dict(sites=[dict(domain='bulk-d.example'), dict(domain='bulk&e.example')]),
     'sites[1] (bulk&e.example): domain: must not contain URI reserved characters'),
    ('plausible_sites', dict(sites=[dict(domain='bulk-f.example', goals=[dict(goal_type='page', page_path='/a', event_name='A')])]),
     'parameters are mutually exclusive: event_name|page_path found in sites -> goals'),
    ('plausible_sites', dict(sites=[dict(domain='bulk-g.example', goals=[dict(goal_type='funnel', event_name='A')])]),
     'value of goal_type must be one of: event, page, got: funnel found in sites -> goals'),
    ('plausible_sites', dict(sites=[dict(domain='bulk-h.example', shared_links=[RESERVED_LINK])]),
     f"sites[0] (bulk-h.example): shared_links[0].name: '{RESERVED_LINK}' is reserved"),
    ('plausible_sites', dict(sites=[dict(domain='bulk-i.example', timezone='Europe/Atlantis')]),
     "sites[0] (bulk-i.example): timezone: 'Europe/Atlantis' is not a time zone"),
    ('plausible_sites', dict(sites=[dict(domain='bulk-j.example', goals=[dict(goal_type='event', event_name='A', custom_props=THREE_PROPS_TOO_MANY)])]),
     'custom_props: use at most 3 properties per goal (got 4)'),
    # Rules that the role onboard leaves to plausible_sites (the playbook rows of bad_input prove that it does).
    ('plausible_sites', dict(sites=[dict(domain='r' * 300 + '.example')]), 'domain: must be at most 255 characters'),
    ('plausible_sites', dict(sites=[dict(domain='role-e.example', timezone='Berlin')]), "timezone: 'Berlin' is not a time zone"),
    ('plausible_sites', dict(sites=[dict(domain='role-i.example', goals=[dict(goal_type='event', event_name='engagement')])]),
     "event_name: the event name 'engagement' is reserved"),
    ('plausible_sites', dict(sites=[dict(domain='role-k.example', goals=[dict(goal_type='event', event_name='Buy', currency='euro')])]),
     'currency: must be an ISO 4217 code'),
    ('plausible_sites', dict(sites=[dict(domain='role-l.example', shared_links=[''])]), "name: can't be blank"),
]

SERVER = [
    ('plausible_site', dict(domain='existing.example', timezone='Asia/Tokyo'),
     "timezone: existing.example has the time zone Europe/Berlin and Plausible's API cannot change it"),
    ('plausible_goal', dict(domain='existing.example', goal_type='event', event_name='Register', display_name='Signup'),
     "display_name: 'Signup' is already the display name of goal"),
    ('plausible_goal', dict(domain='existing.example', goal_type='event', event_name='Signup', display_name='Sign-up'),
     "with display_name 'Signup'; Plausible cannot update a goal. Set recreate: true"),
    ('plausible_sites', dict(sites=[dict(domain='existing.example', timezone='America/New_York')]),
     'Site existing.example: timezone: existing.example has the time zone Europe/Berlin'),
]

SIGNUP = dict(id=1, goal_type='event', event_name='Signup', page_path=None, display_name='Signup', custom_props={})
CONFIG = dict(id='pa-abcdefghijklmnopqrstu', installation_type=None, track_404_pages=False, hash_based_routing=False, outbound_links=False,
              file_downloads=False, revenue_tracking=False, tagged_events=False, form_submissions=False, pageview_props=False)
# What the server holds, by (path, site_id): the reads that a row judged by the server may send.
EXISTING = {
    ('/api/v1/sites/existing.example', None): dict(domain='existing.example', timezone='Europe/Berlin', custom_properties=[],
                                                   tracker_script_configuration=CONFIG),
    ('/api/v1/sites/goals', 'existing.example'): dict(goals=[SIGNUP], meta=dict(after=None, before=None, limit=100)),
}


def existing_site(_method, url, params=None, **_kwargs):
    """The server of the rows judged by the server: existing.example and its goal; anything else is not found."""
    body = EXISTING.get((urlsplit(url).path, (params or {}).get('site_id')))
    return FakeResponse(200, body) if body else FakeResponse(404, dict(error='Site could not be found'))


def run(capsys, module, args, server):
    """Run the row's module; answer reads of existing.example when the row may send them; return (result, requests sent)."""
    result, sent = run_module(capsys, MAINS[module], dict(args, _ansible_module_name=f'plausible.analytics.{module}'),
                              *([existing_site] if server else []))
    return result, [(s['method'], urlsplit(s['url']).path, (s.get('params') or {}).get('site_id')) for s in sent]


ROWS = [(module, args, expect, False) for module, args, expect in LOCAL] + [(module, args, expect, True) for module, args, expect in SERVER]


@pytest.mark.parametrize('module, args, expect, server', ROWS,
                         ids=[f'{m}-{"server" if server else "local"}-{i}' for i, (m, _a, _e, server) in enumerate(ROWS)])
def test_bad_input_fails_naming_the_option_and_writes_nothing(capsys, module, args, expect, server):
    result, sent = run(capsys, module, args, server)
    assert result.get('failed') is True, result
    assert expect in result['msg']
    assert 'Traceback' not in str(result)
    if server:
        assert sent and all(method == 'GET' and (path, site) in EXISTING for method, path, site in sent), sent
    else:
        assert sent == []


# ansible-core turns the string into a one-item list and reports only the element's conversion error, without the
# option's name (the role's argument spec names it). Before 2.21 it fails before it has collected the no_log values;
# PlausibleModule hides them before that (test_no_log_refused.py covers every module and secret), so run_module's check
# that the key shows nowhere holds on every cell. The playbook row of tests/integration/targets/bad_input checks the message too.
def test_sites_that_is_a_string_fails_without_showing_the_key(capsys):
    result, sent = run(capsys, 'plausible_sites', dict(sites='bulk-a.example'), server=False)
    assert 'dictionary requested, could not parse JSON or key=value' in result['msg'] and sent == []
