# One image for web, worker and beat; docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 1000 convene

# Dependencies first, so a code change does not reinstall them. With only pyproject.toml
# present this installs the dependencies; the code itself runs from /app (PYTHONPATH).
COPY pyproject.toml README.md ./
RUN pip install --upgrade pip && pip install .

COPY . .
# Collecting static files needs settings to load; these values exist only for this step.
RUN DEBUG=false SECRET_KEY=collectstatic-only-not-a-real-key-0123456789abcdefghijklmnop \
    ALLOWED_HOSTS=localhost SITE_URL=https://localhost \
    python manage.py collectstatic --noinput \
    && chown -R convene:convene /app

USER convene
EXPOSE 8000
CMD ["sh", "-c", "gunicorn config.wsgi --bind 0.0.0.0:${PORT:-8000} --workers ${WEB_CONCURRENCY:-3} --access-logfile -"]
