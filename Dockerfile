# Frontdesk: GraphQL accounts server.
#
#   docker build -t frontdesk .
#
# Configuration is by FRONTDESK_* environment variables at run time. In
# production use PostgreSQL (the SQLite default is for a first local try):
#
#   docker run --rm -e FRONTDESK_DATABASE_URL=postgres://user:pass@db:5432/frontdesk \
#       frontdesk frontdesk migrate            # apply migrations (once per release)
#   docker run -d -p 8000:8000 -e FRONTDESK_DATABASE_URL=postgres://... \
#       -e FRONTDESK_ENV=production -e FRONTDESK_PUBLIC_URL=https://portal.example.com frontdesk
#
# schema.graphql must exist (make schema); the build fails without it.

# ---- builder: build the wheel and install it with its dependencies into /opt/venv
FROM python:3.11-slim AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
COPY pyproject.toml README.md ./
COPY server/ ./server/
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /tmp/wheels . \
    && pip install --no-cache-dir /tmp/wheels/*.whl \
    && rm -rf /tmp/wheels

# ---- runtime: the venv, the admin app's static files and the schema; nothing else
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    FRONTDESK_HOST=0.0.0.0 \
    FRONTDESK_PORT=8000

RUN groupadd --system --gid 10001 frontdesk \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin frontdesk

WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
# The server serves static/admin relative to its working directory.
COPY static/ /app/static/
COPY schema.graphql /app/schema.graphql
# The only writable place: var/ (the default mail directory, var/mail, for
# .eml files when no SMTP server is configured). Code and assets stay root-owned.
RUN mkdir -p /app/var/mail && chown -R 10001:10001 /app/var

USER 10001:10001

EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('FRONTDESK_PORT', '8000') + '/healthz', timeout=4)"]

CMD ["frontdesk", "serve"]
