# like-keras on Dora, without ROS 2: an image that runs one system on the Dora engine.
# From the repository root (any Docker-compatible builder: docker, podman, buildah):
#   docker build -f docker/dora.Dockerfile -t like-keras:dora .
#   docker run --rm like-keras:dora                       # runs SYSTEM on Dora, prints the result
#   docker run --rm -v "$PWD/out:/out" like-keras:dora --iterations 50 --record env.obs --run-dir /out
# Build arguments (docker/README.md):
#   BASE      an image with Python >= 3.11 and its venv module (default python:3.11-slim)
#   APP       a folder of the build context with the system's code, copied to /app, which is the
#             working directory and on PYTHONPATH (default: the examples' package folder)
#   SYSTEM    the system: package.module:Name, or file.py:Name with file.py in APP
#   RUN_ARGS  what `lk run` gets by default besides the target and the transport
ARG BASE=python:3.11-slim
FROM ${BASE}

ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1

# A venv of its own: pip needs no --break-system-packages where the OS's Python is
# "externally managed" (Debian's), and nothing of the OS's Python mixes in.
ENV VIRTUAL_ENV=/opt/like-keras
ENV PATH=${VIRTUAL_ENV}/bin:${PATH}
RUN python3 -m venv "$VIRTUAL_ENV"

# The pinned runtime dependencies, numpy, PyYAML and Dora (dora-rs, and dora-rs-cli: the
# `dora` command) at the versions requirements.txt pins.
COPY requirements.txt requirements-runtime.txt /tmp/like-keras/
RUN cd /tmp/like-keras \
    && grep -E '^(numpy|PyYAML|dora-rs|dora-rs-cli)==' requirements.txt > extra.txt \
    && pip install --no-cache-dir --disable-pip-version-check -r requirements-runtime.txt -r extra.txt

# like-keras itself and its examples (not editable; no ROS 2 transport here).
COPY src/like_keras /tmp/like-keras/src/like_keras/
COPY src/like_keras_examples /tmp/like-keras/src/like_keras_examples/
RUN pip install --no-cache-dir --disable-pip-version-check --use-pep517 \
      /tmp/like-keras/src/like_keras /tmp/like-keras/src/like_keras_examples \
    && rm -rf /tmp/like-keras/src

# The system's code, and the system (checked now, so a wrong system fails the build).
ARG APP=src/like_keras_examples
COPY ${APP} /app/
WORKDIR /app
ENV PYTHONPATH=/app
ARG SYSTEM=like_keras_examples.cartpole:CartPole
ARG RUN_ARGS="--iterations 500"
ENV SYSTEM="${SYSTEM}" RUN_ARGS="${RUN_ARGS}" TRANSPORT=dora
RUN lk check "$SYSTEM"

# `docker run IMAGE` runs the system: `lk run $SYSTEM --transport $TRANSPORT $RUN_ARGS`;
# `docker run IMAGE --iterations 50 ...` adds options to that (a later option wins); any
# other command runs as given.
ENTRYPOINT ["/bin/sh", "-c", "if [ $# = 0 ] || [ \"${1#-}\" != \"$1\" ]; then set -- lk run \"$SYSTEM\" --transport \"$TRANSPORT\" $RUN_ARGS \"$@\"; fi && exec \"$@\"", "like-keras"]
CMD []
