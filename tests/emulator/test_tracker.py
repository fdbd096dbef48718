# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tracker scripts and the event endpoint (tracker.py), as installation-verification.md §3-§4 describe them."""

import json
import re

import pytest


def create_site(client, domain='example.com', **config):
    response = client.post('/api/v1/sites', json=dict(domain=domain, tracker_script_configuration=config))
    assert response.status_code == 200, response.text
    return response.json()['tracker_script_configuration']['id']


def test_the_sites_script_embeds_its_domain_and_the_servers_endpoint(client):
    tracker_id = create_site(client, outbound_links=True, form_submissions=True)
    response = client.get('/js/%s.js' % tracker_id, key=None)
    assert response.status_code == 200
    assert response.headers['Content-Type'] == 'application/javascript'
    assert response.headers['cache-control'] == 'public, max-age=60, no-transform'
    config = re.search(r'config=(\{[^}]*\})', response.text).group(1)
    # Strings JSON-encoded, true as !0, false flags left out, pairs ordered by length, longest first.
    assert config == '{endpoint:"%s/api/event",domain:"example.com",formSubmissions:!0,outboundLinks:!0}' % client.base_url


def test_the_script_follows_a_rename(client):
    tracker_id = create_site(client)
    assert client.put('/api/v1/sites/example.com', json={'domain': 'example.org'}).status_code == 200
    assert 'domain:"example.org"' in client.get('/js/%s.js' % tracker_id, key=None).text


@pytest.mark.parametrize('name', ['pa-zzzzzzzzzzzzzzzzzzzzz.js', 'pa-short.js'])
def test_an_unknown_tracker_id_is_not_found(client, name):
    create_site(client)
    response = client.get('/js/' + name, key=None)
    assert response.status_code == 404
    if name != 'pa-short.js':
        assert response.text == 'Not found'


@pytest.mark.parametrize('name', ['script.js', 'plausible.js', 'analytics.js', 'p.js', 'script.outbound-links.js',
                                  'script.manual.hash.tagged-events.js', 'script.file-downloads.pageleave.js'])
def test_the_legacy_scripts_are_served_without_a_site(client, name):
    response = client.get('/js/' + name, key=None)
    assert response.status_code == 200
    assert response.headers['Content-Type'] == 'application/javascript'
    assert response.headers['cache-control'] == 'public, max-age=86400'
    assert 'domain:"' not in response.text


def test_an_unknown_legacy_variant_is_not_served(client):
    response = client.get('/js/script.teleport.js', key=None, headers={'Accept': 'text/html'})
    assert response.status_code == 404
    assert response.headers['Content-Type'].startswith('text/html')


def test_an_empty_event_is_refused_with_three_errors_and_not_recorded(client):
    response = client.post('/api/event', key=None, data=b'{}', headers={'Content-Type': 'application/json'})
    assert response.status_code == 400
    assert response.json() == {'errors': {'domain': ["can't be blank"], 'event_name': ["can't be blank"], 'url': ['is required']}}
    assert client.control('GET', 'events') == []


@pytest.mark.parametrize('body', [b'not json', b'[1, 2]', b'', b'"text"'])
def test_a_body_that_is_no_json_object_cannot_be_parsed(client, body):
    response = client.post('/api/event', key=None, data=body, headers={'Content-Type': 'text/plain'})
    assert response.status_code == 400
    assert response.json() == {'errors': {'request': ['Unable to parse request body as json']}}


def test_a_valid_event_is_accepted_with_202_and_recorded_also_for_an_unknown_domain(client):
    create_site(client)
    for event in ({'n': 'pageview', 'u': 'https://example.com/', 'd': 'example.com'},
                  {'name': 'Signup', 'url': 'https://x.example/', 'domain': 'x.example'}):
        response = client.post('/api/event', key=None, data=json.dumps(event).encode(), headers={'Content-Type': 'text/plain'})
        assert (response.status_code, response.text) == (202, 'ok')
    assert client.control('GET', 'events') == [
        {'domain': 'example.com', 'event_name': 'pageview', 'url': 'https://example.com/', 'site_exists': True},
        {'domain': 'x.example', 'event_name': 'Signup', 'url': 'https://x.example/', 'site_exists': False}]
    client.control('POST', 'reset')
    assert client.control('GET', 'events') == []


def test_the_community_edition_serves_the_scripts_and_the_endpoint_too(client):
    tracker_id = create_site(client)
    client.config(edition='ce')
    assert client.get('/js/%s.js' % tracker_id, key=None).status_code == 200
    assert client.post('/api/event', key=None, data=b'{}').status_code == 400
