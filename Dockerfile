FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# WeasyPrint needs Pango.
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml ./
COPY . .
RUN pip install --no-cache-dir -e . && DJANGO_SECRET_KEY=build-only-collectstatic-key-not-used-at-runtime-0000 \
    DJANGO_ENV=production python manage.py collectstatic --noinput
RUN useradd --create-home spip && mkdir -p /data/media /app/var && chown -R spip /data /app/var
USER spip
EXPOSE 8000
