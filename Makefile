# like-keras workspace. Two commands on a fresh Debian/Ubuntu machine:
#   make demo   set up .venv and run the cart-pole example
#   make test   set up .venv and run the whole test suite
SHELL := /bin/bash
PYTHON ?= /usr/bin/python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages, installed with apt-get when missing: what the venv needs, and
# Debian's partial ROS 2 (ament_lint, rosidl) that checks generated ROS 2 packages.
# The second set is in Debian 12; where apt has no such package the ROS packaging
# tests skip, except under CI=true, where setup fails.
APT_PACKAGES := python3-venv python3-pip graphviz
# Deployment and its tests: ssh and rsync (what ships a system to a robot), iproute2
# (robots simulated as network namespaces), systemd (systemd-analyze checks service
# units), and podman, runc and debootstrap (container images built and run here).
APT_DEPLOY := openssh-client openssh-server rsync iproute2 systemd podman runc debootstrap
APT_ROS_TOOLS := ament-cmake ament-lint python3-ament-index python3-ament-package rosidl-core rosidl-tools
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PACKAGES := src/like_keras src/like_keras_examples src/like_keras_ros

.PHONY: setup demo test bench mutants pictures clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-runtime.txt Makefile $(addsuffix /setup.py,$(PACKAGES)) $(addsuffix /setup.cfg,$(PACKAGES))
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), sys.version' 2>/dev/null \
	  || { echo "like-keras needs Python >= 3.10 at $(PYTHON) (set PYTHON=...)"; exit 1; }
	@missing=""; for p in $(APT_PACKAGES) $(APT_DEPLOY) $(APT_ROS_TOOLS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "apt-get install$$missing"; $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_PACKAGES) $(APT_DEPLOY) || exit 1; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_ROS_TOOLS) \
	    || { [ "$$CI" = true ] && exit 1; echo "warning: no ament_lint/rosidl from apt here: ROS packaging tests will skip"; }; \
	fi
	$(PYTHON) -m venv --system-site-packages $(VENV)
	@# Editable installs go through PEP 660 so console scripts land in .venv/bin
	@# (setup.cfg's lib/<pkg> script dir is for colcon builds only).
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --use-pep517 --no-build-isolation \
	  $(addprefix -e ,$(PACKAGES))
	@touch $@

demo: setup
	$(BIN)/lk run like_keras_examples.cartpole:CartPole --iterations 500 --record env.reward env.done

test: setup
	$(BIN)/python -m pytest tests

# The headline ratios, five runs each, in one table (docs/benchmarks.md keeps the last one);
# then the benches with figures of their own.
bench: setup
	$(BIN)/python bench/summary.py --runs 5
	$(BIN)/python bench/dora_startup.py
	$(BIN)/python bench/live_view.py
	$(BIN)/python bench/scale.py

# Mutation testing of the modules that carry the guarantees (not in `make test`: ~20 min).
mutants: setup
	$(BIN)/python tests/mutation/run.py

# The README's pictures of the examples (a test checks they match the code).
pictures: setup
	$(BIN)/python -m like_keras_examples.pictures docs/graphs

clean:
	rm -rf $(VENV) build install log .pytest_cache
