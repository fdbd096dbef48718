# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures: one in-process emulator for the session, reset through its control API before every test."""

import pytest

from . import server
from .support import API_KEY, RO_KEY, TEAM_KEY, TEST_CONFIG, Client


@pytest.fixture(scope='session')
def emulator():
    emu = server.start(api_key=API_KEY, keys=[RO_KEY + ':stats:read:*'], team_keys=[TEAM_KEY + ':sites:provision:*'],
                       **{name: value for name, value in TEST_CONFIG.items() if name not in ('edition', 'has_user')})
    yield emu
    emu.stop()


@pytest.fixture
def client(emulator):
    api = Client(emulator.base_url)
    api.control('POST', 'reset')
    api.config(**TEST_CONFIG)
    yield api
    api.session.close()
