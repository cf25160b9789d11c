# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY config ./config
COPY marketplace ./marketplace
COPY catalog ./catalog
COPY orders ./orders
COPY payments ./payments
COPY refunds ./refunds
COPY downloads ./downloads
COPY messaging ./messaging
COPY moderation ./moderation
COPY analytics ./analytics
RUN pip install .
COPY . .
# collectstatic needs no services; the key only satisfies settings at build time.
RUN SECRET_KEY=build-only DEBUG=false python manage.py collectstatic --noinput

RUN useradd --create-home app && mkdir -p /app/var && chown -R app /app/var
USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
