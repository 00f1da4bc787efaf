# Multi-stage: build the package in one image, run it as a non-root user in a slim one.
# The steps mirror the README's quick start: a virtualenv, `pip install .`, `crowdmentor run`.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY config ./config
COPY bot ./bot
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 crowdmentor \
    && mkdir /data \
    && chown crowdmentor:crowdmentor /data
COPY --from=build /opt/venv /opt/venv
ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL="sqlite:////data/crowdmentor.db"
USER crowdmentor
WORKDIR /home/crowdmentor
# The SQLite file lives here; mount a volume to keep it across containers.
VOLUME ["/data"]
# Slack and Discord come from their tokens in the environment; with none, the console
# (run the container with -it to type into it).
CMD ["crowdmentor", "run"]
