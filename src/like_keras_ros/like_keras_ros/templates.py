"""Fixed text of generated ROS 2 packages: the license header and the ament lint tests."""

from __future__ import annotations

import datetime

_APACHE = """#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""


def copyright_header(holder: str = "like-keras team") -> str:
    """The Apache-2.0 header that ament_copyright accepts, for this year."""
    return f"# Copyright {datetime.date.today().year} {holder}\n{_APACHE}"


# The standard lint tests of a ROS 2 Python package (as `ros2 pkg create` writes them).
LINT_TESTS = {
    "test_copyright.py": """from ament_copyright.main import main
import pytest


@pytest.mark.copyright
@pytest.mark.linter
def test_copyright():
    rc = main(argv=['.', 'test'])
    assert rc == 0, 'Found errors'
""",
    "test_flake8.py": """from ament_flake8.main import main_with_errors
import pytest


@pytest.mark.flake8
@pytest.mark.linter
def test_flake8():
    rc, errors = main_with_errors(argv=[])
    assert rc == 0, \\
        'Found %d code style errors / warnings:\\n' % len(errors) + \\
        '\\n'.join(errors)
""",
    "test_pep257.py": """from ament_pep257.main import main
import pytest


@pytest.mark.linter
@pytest.mark.pep257
def test_pep257():
    rc = main(argv=['.', 'test'])
    assert rc == 0, 'Found code style errors / warnings'
""",
    "test_xmllint.py": """from ament_xmllint.main import main
import pytest


@pytest.mark.linter
@pytest.mark.xmllint
def test_xmllint():
    rc = main(argv=[])
    assert rc == 0, 'Found errors'
""",
}
