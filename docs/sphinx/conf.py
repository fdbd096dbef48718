# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sphinx settings for `make docs`: the docsite that antsibull-docs renders (guides and plugin reference), as HTML in
docs/build/html; the guides are Markdown, read with MyST.

Written for an offline build: there is no intersphinx mapping (it would download inventories from the
Ansible and Python docsites), so the few labels that only exist on docs.ansible.com (for example
``common_return_values``) stay unresolved; those warnings are suppressed here, below. References inside this
collection are checked by `make docs-lint` (antsibull-docs lint-collection-docs --plugin-docs) instead.
"""

project = 'plausible.analytics'
copyright = 'plausible.analytics contributors'  # pylint: disable=redefined-builtin  # Sphinx's own setting name
title = 'plausible.analytics'
html_short_title = 'plausible.analytics'

extensions = ['sphinx_antsibull_ext', 'myst_parser']

# The guides are Markdown (docs/*.md): headings get the anchors GitHub gives them, so that #links work on both.
myst_heading_anchors = 4

pygments_style = 'ansible'
highlight_language = 'YAML+Jinja'

html_theme = 'sphinx_ansible_theme'
html_show_sphinx = False
html_use_index = False
html_copy_source = False
html_theme_options = {
    'collapse_navigation': False,
    'navigation_depth': 3,
    'titles_only': False,
}

# Labels of the Ansible docsite (reached only through intersphinx, i.e. over the network) cannot resolve here.
suppress_warnings = ['ref.ref']
