# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Custom property and guest resources as the bulk module uses them: many per site from one listing, and purge."""

from __future__ import annotations

import pytest

from ansible_collections.plausible.analytics.plugins.module_utils._client import PlausibleError
from ansible_collections.plausible.analytics.plugins.module_utils._custom_property import (
    CustomPropertyResource, custom_properties_to_purge, custom_property_resources)
from ansible_collections.plausible.analytics.plugins.module_utils._guest import GuestResource, guest_resources, guests_to_purge
from ansible_collections.plausible.analytics.plugins.module_utils._module import ResourceError, ensure
from ansible_collections.plausible.analytics.plugins.module_utils._rules import InputError


class RecordingClient:
    """The client methods these resources call; every call is recorded, listings must not be called."""

    def __init__(self, invite_answer=None, error=None):
        self.calls = []
        self.invite_answer = invite_answer
        self.error = error

    def __getattr__(self, method):
        def call(*args):
            self.calls.append((method,) + args)
            if self.error is not None:
                raise self.error
            if method == 'invite_guest':
                return self.invite_answer or dict(email=args[1], role=args[2], status='invited')
            if method.startswith('list_'):
                raise AssertionError('a listing was sent although one was given')
            return {'deleted': True} if method.startswith('delete') else {'created': True}
        return call


def test_properties_from_one_listing_send_only_what_is_missing():
    client = RecordingClient()
    resources = custom_property_resources(client, 'example.com', [' author ', 'a/b', 'plan'], known=['author', 'old'])
    outcomes = [ensure(resource, 'present', False) for resource in resources]
    assert [o.changed for o in outcomes] == [False, True, True]
    assert client.calls == [('add_custom_property', 'example.com', 'a/b'), ('add_custom_property', 'example.com', 'plan')]
    assert outcomes[0].after == {'domain': 'example.com', 'property': 'author'}


def test_property_purge_is_listing_minus_declared_and_check_mode_sends_nothing():
    client = RecordingClient()
    declared = custom_property_resources(client, 'example.com', ['author'], known=['author', 'old', 'x/y'])
    purge = custom_properties_to_purge(client, 'example.com', declared, ['author', 'old', 'x/y'])
    assert [r.property for r in purge] == ['old', 'x/y']
    assert [ensure(r, 'absent', True).changed for r in purge] == [True, True] and client.calls == []
    [ensure(r, 'absent', False) for r in purge]
    assert client.calls == [('delete_custom_property', 'example.com', 'old'), ('delete_custom_property', 'example.com', 'x/y')]


@pytest.mark.parametrize('names, message', [
    (['a', ' a'], "custom_properties[1]: 'a' is declared more than once"),
    (['   '], "custom_properties[0]: can't be blank"),
    (['x' * 301], 'custom_properties[0]: must be at most 300 characters after trimming (got 301)'),
])
def test_bad_property_lists_name_the_entry(names, message):
    with pytest.raises(InputError) as caught:
        custom_property_resources(RecordingClient(), 'example.com', names, known=[])
    assert message in str(caught.value)


def test_property_402_and_limit_are_explained():
    for status, error, expected in ((402, 'Your current subscription plan does not include Custom Properties', 'Custom Properties feature'),
                                    (400, "Can't add any more custom properties", 'already has 300 custom properties')):
        client = RecordingClient(error=PlausibleError('HTTP %d: %s' % (status, error), status=status, error=error))
        resource = CustomPropertyResource(client, dict(domain='example.com', property='new'), known=[])
        with pytest.raises(PlausibleError) as caught:
            ensure(resource, 'present', False)
        assert expected in caught.value.message and caught.value.status == status


def test_guests_from_one_listing_and_purge():
    known = [dict(email='keep@example.com', role='viewer', status='accepted'),
             dict(email='gone@x', role='editor', status='invited')]
    client = RecordingClient()
    declared = guest_resources(client, 'example.com', [dict(email='keep@example.com', role='viewer'),
                                                       dict(email='new@example.com', role='editor')], known=known)
    assert [ensure(r, 'present', False).changed for r in declared] == [False, True]
    # A listed address is taken as the server has it, even where the local rule is stricter.
    purge = guests_to_purge(client, 'example.com', declared, known)
    assert [r.email for r in purge] == ['gone@x']
    assert ensure(purge[0], 'absent', False).before['role'] == 'editor'
    assert client.calls == [('invite_guest', 'example.com', 'new@example.com', 'editor'),
                            ('delete_guest', 'example.com', 'gone@x')]


def test_guest_role_mismatch_names_the_reinvite_option_of_the_caller():
    known = [dict(email='g@example.com', role='viewer', status='accepted')]
    resources = guest_resources(RecordingClient(), 'example.com', [dict(email='g@example.com', role='editor')], known=known)
    with pytest.raises(ResourceError, match='reinvite_guests: true'):
        ensure(resources[0], 'present', False)


@pytest.mark.parametrize('guests, message', [
    ([dict(email='a@example.com'), dict(email='a@example.com')], "guests[1].email: 'a@example.com' is declared more than once"),
    ([dict(email='no-at-sign')], 'guests[0].email: must be one address'),
    ([dict(email='a@example.com', role='owner')], "guests[0].role: must be one of viewer, editor (got 'owner')"),
])
def test_bad_guest_lists_name_the_entry(guests, message):
    with pytest.raises(InputError) as caught:
        guest_resources(RecordingClient(), 'example.com', guests, known=[])
    assert message in str(caught.value)


def test_guest_without_role_is_a_viewer():
    resource = GuestResource(RecordingClient(), dict(domain='example.com', email='a@example.com'), known=[])
    assert resource.role == 'viewer'
