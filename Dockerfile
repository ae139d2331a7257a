# The PWA is built with Node, then served by the Python image (pwa/dist beside the backend).
FROM node:20-slim AS pwa
WORKDIR /pwa
COPY pwa/package.json pwa/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY pwa ./
RUN npm run build

FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
COPY pyproject.toml requirements.lock README.md ./
COPY backend ./backend
COPY push ./push
COPY migrations ./migrations
RUN pip install -c requirements.lock -e .
COPY --from=pwa /pwa/dist ./pwa/dist
# Visit photos and the VAPID key live on a volume that the API and the worker share.
RUN useradd --system --uid 1000 fieldcrm && mkdir -p /var/lib/fieldcrm/media && chown -R fieldcrm /var/lib/fieldcrm
ENV FIELDCRM_MEDIA_DIR=/var/lib/fieldcrm/media FIELDCRM_VAPID_PRIVATE_KEY_PATH=/var/lib/fieldcrm/vapid_private.pem
USER fieldcrm
EXPOSE 8000
CMD ["fieldcrm", "serve", "--migrate", "--host", "0.0.0.0", "--port", "8000"]
