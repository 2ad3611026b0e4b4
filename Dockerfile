# syntax=docker/dockerfile:1
# oms-api image: build a wheel (migrations included) into a venv, then copy only the venv into a slim runtime.
#   docker build -t oms-api .
#   docker run --rm -p 8000:8000 -v oms-data:/data oms-api

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# The venv lives at the path it will have at runtime: its scripts' shebangs are absolute.
RUN python -m venv /opt/oms
COPY pyproject.toml README.md ./
COPY src ./src
COPY migrations ./migrations
RUN --mount=type=cache,target=/root/.cache/pip \
    /opt/oms/bin/pip wheel --no-deps --wheel-dir /wheels . \
    && /opt/oms/bin/pip install /wheels/*.whl \
    && /opt/oms/bin/python -c "from oms_api.kit.migrations import migrations_dir; assert (migrations_dir() / 'env.py').is_file()"

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="oms-api" \
      org.opencontainers.image.description="Headless order management system: orders, stock, fulfilment over REST/JSON"
ENV PATH=/opt/oms/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    OMS_HOST=0.0.0.0 \
    OMS_PORT=8000 \
    OMS_DATABASE_URL=sqlite+aiosqlite:////data/oms.db
# A fixed, unprivileged user; /data holds the SQLite database when no OMS_DATABASE_URL points elsewhere, and,
# without OMS_SECRET_KEY, the key sealing its stored secrets (oms.db.key, 0600). On PostgreSQL the service
# needs OMS_SECRET_KEY: pass it at run time from a secret store, never as a build argument or ENV here.
RUN groupadd --system --gid 10001 oms \
    && useradd --system --uid 10001 --gid oms --home-dir /data --no-create-home --shell /usr/sbin/nologin oms \
    && install -d -o oms -g oms -m 0750 /data
COPY --from=builder /opt/oms /opt/oms
USER oms:oms
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('OMS_PORT', '8000'), timeout=2)"]
CMD ["oms-api", "serve"]
