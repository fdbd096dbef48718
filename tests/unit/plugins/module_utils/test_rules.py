# Copyright (c) plausible.analytics contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The local rules against the server's (plausible-sites-api.md §8, plausible-plugins-api.md), character by character."""

from __future__ import annotations

import unicodedata

import pytest

from ansible_collections.plausible.analytics.plugins.module_utils._rules import (
    InputError, check_shared_link_name, check_timezone, normalize_domain, normalize_event_name)

FORMAT = 'only letters, numbers, slashes, underscores and period allowed'

# The server's format is ~r/^[-\.\\\/_:\p{L}\d]*$/u: letters of any script (\p{L}) and decimal digits (\d is
# Unicode category Nd). Numbers of other kinds (No, Nl) and marks are refused.
DOMAIN_CHARACTERS = [
    ('²', False),   # SUPERSCRIPT TWO, No
    ('³', False),   # SUPERSCRIPT THREE, No
    ('₂', False),   # SUBSCRIPT TWO, No
    ('①', False),   # CIRCLED DIGIT ONE, No
    ('⑩', False),   # CIRCLED NUMBER TEN, No
    ('½', False),   # VULGAR FRACTION ONE HALF, No
    ('Ⅻ', False),   # ROMAN NUMERAL TWELVE, Nl
    ('〇', False),   # IDEOGRAPHIC NUMBER ZERO, Nl
    ('\u0301', False),  # COMBINING ACUTE ACCENT, Mn
    ('·', False),   # MIDDLE DOT, Po
    ('٣', True),    # ARABIC-INDIC DIGIT THREE, Nd
    ('５', True),    # FULLWIDTH DIGIT FIVE, Nd
    ('𝟙', True),    # MATHEMATICAL DOUBLE-STRUCK DIGIT ONE, Nd
    ('७', True),    # DEVANAGARI DIGIT SEVEN, Nd
    ('7', True),
    ('ü', True),    # Ll
    ('音', True),    # Lo
    ('ʰ', True),    # MODIFIER LETTER SMALL H, Lm
]


@pytest.mark.parametrize('character, accepted', DOMAIN_CHARACTERS,
                         ids=['%s-%s' % (unicodedata.name(c, hex(ord(c))), unicodedata.category(c)) for c, _a in DOMAIN_CHARACTERS])
def test_a_domain_character_passes_as_on_the_server(character, accepted):
    domain = 'site%s.example' % character
    if accepted:
        assert normalize_domain(domain) == domain.lower()
    else:
        with pytest.raises(InputError, match=FORMAT):
            normalize_domain(domain)


@pytest.mark.parametrize('domain', ['müllers-café.test', '音乐.cn', 'до.101домен.рф/pages'])
def test_the_servers_own_examples_pass(domain):
    assert normalize_domain(domain) == domain


@pytest.mark.parametrize('value, accepted', [
    ('+01:00', True), ('-11:30', True), ('GMT+5', True), ('UTC', True), ('Europe/Berlin', True),
    ('+٠١:٠٠', False), ('GMT+٥', False), ('+１２:００', False),  # Timex's offsets take ASCII digits
])
def test_time_zone_aliases_take_ascii_digits(value, accepted):
    if accepted:
        assert check_timezone(value) == value
    else:
        with pytest.raises(InputError, match='is not a time zone'):
            check_timezone(value)


def test_journey_end_is_reserved_on_hosted_servers_only():
    with pytest.raises(InputError, match='reserved'):
        normalize_event_name('__journey_end__')
    assert normalize_event_name('__journey_end__', community_edition=True) == '__journey_end__'
    with pytest.raises(InputError, match='reserved'):
        normalize_event_name('engagement', community_edition=True)


def test_the_wordpress_link_name_is_reserved_in_the_sites_api_only():
    with pytest.raises(InputError, match='reserved by Plausible in the Sites API'):
        check_shared_link_name('WordPress - Shared Dashboard')
    assert check_shared_link_name('WordPress - Shared Dashboard', plugins_api=True) == 'WordPress - Shared Dashboard'
