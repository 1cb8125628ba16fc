# Datastore Bot: `docker build -t datastore-bot . && docker run -p 3000:3000 --env-file .env -v datastore-data:/app/data datastore-bot`
# The base is pinned to an exact Python patch release and Debian release; the dependencies are the exact
# versions of constraints.txt (scripts/lock). Both stages use the same base, so the virtualenv built in the
# first runs unchanged in the second.
FROM python:3.11.17-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies first, in their own layer: a change to the code alone reuses it.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -c constraints.txt -r /tmp/requirements.txt
# Then the code, installed without touching the dependencies.
COPY README.md LICENSE ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY demo ./demo
RUN pip install -c constraints.txt --no-deps .

FROM python:3.11.17-slim-bookworm
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH \
    PORT=3000
RUN groupadd --system --gid 10001 bot \
    && useradd --system --uid 10001 --gid bot --home-dir /app --shell /usr/sbin/nologin bot
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
RUN mkdir -p /app/data && chown bot:bot /app/data
USER 10001:10001
VOLUME ["/app/data"]
EXPOSE 3000
# Healthy when /healthz on $PORT answers 200 within 4 s; any other answer raises, and python exits 1.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]
ENTRYPOINT ["datastore-bot"]
CMD ["serve"]
