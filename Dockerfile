# Provisioner: one process serving the UI, the REST API and the metrics, and running the jobs.
#   docker build -t provisioner .
#   docker run -p 8080:8080 -v provisioner-data:/data -e PROVISIONER_ADMIN_PASSWORD=… provisioner
# The embedded sandbox is off: it has no sign-in, and the container listens on every address, so
# it would be anyone's (the service refuses to start that way). Register your ERPNext under Engines.
# A demo with the sandbox, published on this machine's loopback only:
#   docker run -p 127.0.0.1:8080:8080 -e PROVISIONER_SANDBOX=on -e PROVISIONER_SANDBOX_PUBLIC=on … provisioner
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=/app/.venv UV_COMPILE_BYTECODE=1 \
    PROVISIONER_HOST=0.0.0.0 PROVISIONER_PORT=8080 PROVISIONER_SANDBOX=off \
    PROVISIONER_DATA_DIR=/data \
    NICEGUI_STORAGE_PATH=/data/.nicegui

WORKDIR /app
RUN pip install --no-cache-dir 'uv==0.13.9'
# Dependencies first (a layer that survives code changes), exactly as locked, without the dev group.
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-dev --no-install-project
COPY . .

# The code belongs to root and is read-only for the service; everything it writes lives in /data
# (database, secret.key, the embedded sandbox's documents, UI session files).
RUN useradd --system --uid 10001 --no-create-home --home-dir /data provisioner \
    && mkdir -p /data && chown provisioner /data && chmod 0700 /data
USER provisioner
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/app/.venv/bin/python", "-c", "import os, sys, urllib.request; port = os.environ.get('PROVISIONER_PORT', '8080'); sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4).status != 200)"]
CMD ["/app/.venv/bin/python", "main.py"]
