# Provisioner: one process serving the UI, the REST API and the metrics.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=/app/.venv \
    PROVISIONER_HOST=0.0.0.0 PROVISIONER_PORT=8080 \
    PROVISIONER_DATABASE_URL=sqlite:////data/provisioner.db PROVISIONER_DATA_DIR=/data

WORKDIR /app
RUN pip install --no-cache-dir 'uv==0.13.9'
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-dev --no-install-project
COPY . .

RUN useradd --system --uid 10001 --home /app provisioner && mkdir -p /data && chown provisioner /data
USER provisioner
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz').status != 200)"
CMD ["/app/.venv/bin/python", "main.py"]
